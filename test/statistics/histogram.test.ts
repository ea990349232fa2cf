import { GatewayError } from '../../src/errors';
import { bucketCount, bucketStart, histogramOf, MAX_BUCKETS, nextBucketStart, type HistogramInterval } from '../../src/statistics/histogram';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('UTC buckets', () => {
  it.each<[HistogramInterval, string, string, string]>([
    ['HOUR', '2026-03-29T01:59:59.999Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    ['DAY', '2026-03-29T23:30:00.000Z', '2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z'],
    // Weeks start on Monday; 2026-11-01 is a Sunday.
    ['WEEK', '2026-11-01T12:00:00.000Z', '2026-10-26T00:00:00.000Z', '2026-11-02T00:00:00.000Z'],
    ['WEEK', '2026-11-02T00:00:00.000Z', '2026-11-02T00:00:00.000Z', '2026-11-09T00:00:00.000Z'],
    ['MONTH', '2024-02-29T10:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['MONTH', '2026-12-31T23:59:59.999Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['DAY', '1969-12-31T12:00:00.000Z', '1969-12-31T00:00:00.000Z', '1970-01-01T00:00:00.000Z'],
  ])('%s of %s is [%s, %s)', (interval, time, start, end) => {
    expect(iso(bucketStart(at(time), interval))).toBe(start);
    expect(iso(nextBucketStart(at(start), interval))).toBe(end);
  });

  it('counts the buckets a window spans', () => {
    expect(bucketCount(at('2026-01-01T00:30:00Z'), at('2026-01-01T02:00:00Z'), 'HOUR')).toBe(2);
    expect(bucketCount(at('2026-01-01T00:30:00Z'), at('2026-01-01T02:00:00.001Z'), 'HOUR')).toBe(3);
    expect(bucketCount(at('2026-01-15T00:00:00Z'), at('2026-03-01T00:00:00Z'), 'MONTH')).toBe(2);
    expect(bucketCount(at('2020-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), 'HOUR')).toBe(MAX_BUCKETS + 1);
  });
});

describe('histogramOf', () => {
  const hours = new Map([
    [at('2026-01-01T10:00:00Z'), 3],
    [at('2026-01-01T13:00:00Z'), 2],
    [at('2026-01-03T00:00:00Z'), 1],
  ]);

  it('adds hours into buckets, keeps empty ones, and cuts the first and last to the window', () => {
    const buckets = histogramOf(hours, { fromMs: at('2026-01-01T09:15:00Z'), toMs: at('2026-01-03T06:00:00Z') }, 'DAY');
    expect(buckets.map((b) => [iso(b.startMs), iso(b.endMs), b.count])).toEqual([
      ['2026-01-01T09:15:00.000Z', '2026-01-02T00:00:00.000Z', 5],
      ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', 0],
      ['2026-01-03T00:00:00.000Z', '2026-01-03T06:00:00.000Z', 1],
    ]);
  });

  it('without a start, begins with the whole bucket of the oldest hour counted', () => {
    const buckets = histogramOf(hours, { fromMs: null, toMs: at('2026-01-01T14:30:00Z') }, 'HOUR');
    expect(buckets.map((b) => b.count)).toEqual([3, 0, 0, 2, 0]);
    expect(iso(buckets[0]!.startMs)).toBe('2026-01-01T10:00:00.000Z');
    expect(iso(buckets[4]!.endMs)).toBe('2026-01-01T14:30:00.000Z');
    expect(histogramOf(new Map(), { fromMs: null, toMs: at('2026-01-01T14:30:00Z') }, 'HOUR')).toEqual([]);
  });

  it('refuses more than the most buckets, naming what to change', () => {
    expect(() => histogramOf(new Map([[at('2020-01-01T00:00:00Z'), 1]]), { fromMs: null, toMs: at('2026-01-01T00:00:00Z') }, 'HOUR')).toThrow(GatewayError);
    expect(() => histogramOf(hours, { fromMs: null, toMs: at('2026-01-01T11:00:00Z') + MAX_BUCKETS * 3_600_000 }, 'HOUR')).toThrow(/oldest event counted/);
    expect(histogramOf(hours, { fromMs: null, toMs: at('2020-01-01T00:00:00Z') + 1 }, 'MONTH')).toEqual([]);
  });
});
