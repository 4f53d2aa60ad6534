import { POINTS_PER_UNIT, pointsForNet, RETURN_PERIOD_DAYS } from '../../src/core/loyalty.js';

describe('the loyalty rule', () => {
  it('is one point per whole 1.00 of net revenue, earned 11 days after the invoice', () => {
    expect(POINTS_PER_UNIT).toBe(1);
    expect(RETURN_PERIOD_DAYS).toBe(11);
  });

  it.each([
    [28_300, 28],
    [999, 0],
    [1_000, 1],
    [0, 0],
    [-5_000, 0],
  ])('gives %i thousandths of net revenue %i points (floor, never negative)', (netMilli, points) => {
    expect(pointsForNet(netMilli)).toBe(points);
  });
});
