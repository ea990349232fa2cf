import { badUserInput } from '../errors';

/** Mirrors the GraphQL enum `HistogramInterval`; every bucket boundary is a UTC calendar boundary. */
export type HistogramInterval = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

/** The most buckets one histogram may have. */
export const MAX_BUCKETS = 10_000;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05, the first Monday after the epoch: ISO weeks start on Mondays. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/** One bucket, `[startMs, endMs)`. */
export interface HistogramBucket {
  startMs: number;
  endMs: number;
  count: number;
}

/** The start of the UTC hour, day, ISO week or month holding `ms`. */
export function bucketStart(ms: number, interval: HistogramInterval): number {
  switch (interval) {
    case 'HOUR':
      return Math.floor(ms / HOUR_MS) * HOUR_MS;
    case 'DAY':
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case 'WEEK':
      return Math.floor((ms - FIRST_MONDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS;
    case 'MONTH': {
      const date = new Date(ms);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    }
  }
}

/** The start of the bucket after the one starting at `start` (itself a bucket start). */
export function nextBucketStart(start: number, interval: HistogramInterval): number {
  switch (interval) {
    case 'HOUR':
      return start + HOUR_MS;
    case 'DAY':
      return start + DAY_MS;
    case 'WEEK':
      return start + WEEK_MS;
    case 'MONTH': {
      const date = new Date(start);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    }
  }
}

/** Buckets of `[fromMs, toMs)`, counted up to `MAX_BUCKETS + 1` at most (enough to refuse). */
export function bucketCount(fromMs: number, toMs: number, interval: HistogramInterval): number {
  let count = 0;
  for (let start = bucketStart(fromMs, interval); start < toMs && count <= MAX_BUCKETS; start = nextBucketStart(start, interval)) count += 1;
  return count;
}

/**
 * Refuses a histogram of more than {@link MAX_BUCKETS} buckets over `[fromMs, toMs)`, naming what
 * to change. `fromMs` is the filter's own start when `known`, else where the counted events start.
 */
export function checkBucketCount(fromMs: number, toMs: number, interval: HistogramInterval, known: boolean): void {
  const count = bucketCount(fromMs, toMs, interval);
  if (count <= MAX_BUCKETS) return;
  const window = known ? 'the window' : `the window from the oldest event counted (${new Date(fromMs).toISOString()})`;
  throw badUserInput(
    `histogram: ${window} to ${new Date(toMs).toISOString()} holds more than ${MAX_BUCKETS} ${interval} buckets; give a larger interval or a narrower filter.from/filter.to`,
    'ARGUMENT_OUT_OF_RANGE',
    'interval',
  );
}

/**
 * The histogram of `[fromMs, toMs)` from counts per UTC hour (hour start → events), every bucket
 * from the first to the last included, empty ones too. Buckets follow UTC calendar boundaries; the
 * first and the last are cut to the window. Without `fromMs` the histogram starts with the bucket
 * of the oldest hour counted (nothing counted: no buckets). Every boundary of a day, week or month
 * is an hour boundary, so hourly counts add up exactly into any interval.
 */
export function histogramOf(hours: ReadonlyMap<number, number>, window: { fromMs: number | null; toMs: number }, interval: HistogramInterval): HistogramBucket[] {
  let first = window.fromMs;
  if (first === null) {
    if (hours.size === 0) return [];
    first = Infinity;
    for (const hour of hours.keys()) first = Math.min(first, hour);
  }
  checkBucketCount(first, window.toMs, interval, window.fromMs !== null);
  const counts = new Map<number, number>();
  for (const [hour, count] of hours) {
    const start = bucketStart(hour, interval);
    counts.set(start, (counts.get(start) ?? 0) + count);
  }
  const buckets: HistogramBucket[] = [];
  for (let start = bucketStart(first, interval); start < window.toMs; start = nextBucketStart(start, interval)) {
    const end = nextBucketStart(start, interval);
    buckets.push({ startMs: Math.max(start, window.fromMs ?? start), endMs: Math.min(end, window.toMs), count: counts.get(start) ?? 0 });
  }
  return buckets;
}
