import { dayOption } from '../../src/cli/day.js';
import { UsageError } from '../../src/cli/errors.js';

describe('dayOption', () => {
  it('passes a calendar day through, and an absent option as undefined', () => {
    expect(dayOption('day', '2011-02-28')).toBe('2011-02-28');
    expect(dayOption('day', '2012-02-29')).toBe('2012-02-29');
    expect(dayOption('since', undefined)).toBeUndefined();
  });

  it.each(['2011-02-30', '2011-13-01', '2011-1-05', 'yesterday', ''])(
    'refuses %j with a usage error naming the option',
    (value) => {
      expect(() => dayOption('since', value)).toThrow(UsageError);
      expect(() => dayOption('since', value)).toThrow(`--since must be a date YYYY-MM-DD, not "${value}"`);
    },
  );
});
