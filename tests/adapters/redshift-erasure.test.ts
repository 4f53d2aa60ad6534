import { namedParameters } from '../../src/adapters/redshift-erasure.js';

describe('namedParameters', () => {
  it("turns PostgreSQL's $n into the Data API's named parameters, each value as text", () => {
    expect(namedParameters('INSERT INTO t VALUES ($1, $2), ($1, $3)', [17850, 'a', 'b'])).toEqual({
      sql: 'INSERT INTO t VALUES (:p1, :p2), (:p1, :p3)',
      parameters: { p1: '17850', p2: 'a', p3: 'b' },
    });
  });

  it.each([
    [null, /parameter \$1/],
    ['', /parameter \$1/],
    [{ id: 1 }, /parameter \$1/],
  ])('refuses %j, which the Data API cannot carry', (value, message) => {
    expect(() => namedParameters('SELECT $1', [value])).toThrow(message);
  });

  it('refuses a placeholder without a value', () => {
    expect(() => namedParameters('SELECT $1, $2', [1])).toThrow('$2 has no value (1 given)');
  });
});
