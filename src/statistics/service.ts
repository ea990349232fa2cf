import { cacheKey } from '../cache/cache';
import { FetchCache } from '../cache/fetch-cache';
import { snapshotOf } from '../connection/plan';
import type { StatisticsAnswer } from './compute';
import { countedWindowEnd } from './compute';
import type { StatisticsNeed } from './count-source';

/**
 * The snapshot of a statistics answer: the snapshot rule's instant (now − settleWindowMs − 1 ms)
 * rounded down to the last millisecond of the previous whole second, so that the counted window
 * ends on a whole second and identical requests within a second ask the same question.
 */
export function statisticsSnapshot(nowMs: number, settleWindowMs: number): number {
  return Math.floor((snapshotOf(nowMs, settleWindowMs) + 1) / 1000) * 1000 - 1;
}

/** How long after an identical computation ended a request still takes its answer: one rounding step. */
const JOIN_MS = 1_000;

/** One question as the cache tells questions apart. */
export interface StatisticsKey {
  /** The caller's sources: callers of different scopes never share an answer. */
  scope: string;
  /** The normalised filter (`EventSelection.fingerprint`). */
  fingerprint: string;
  need: StatisticsNeed;
  filterToMs: number | null;
}

/**
 * Answers by (caller scope, filter, what is needed, counted window), kept for a TTL; identical
 * requests at once share one computation (the FetchCache's in-flight sharing), so fifty callers
 * cost one scan. A window that ends before the snapshot (a `to` in the past) is the same
 * question whenever it is asked; an open one is a new question every second, except that a
 * request takes the snapshot of the latest identical computation while it runs or for a second
 * after it ended (and so its answer): requests sent together share one scan even when a second
 * boundary falls between them, or when some wait in the admission queue. An answer is thus at
 * most one second plus its computation behind the snapshot rule.
 */
export class StatisticsService {
  private readonly answers: FetchCache<StatisticsAnswer>;
  /** The latest computation of each question (without its snapshot): its snapshot, and when it ended (null: running). */
  private readonly latest = new Map<string, { asOfMs: number; endedAtMs: number | null }>();

  constructor(
    ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.answers = new FetchCache<StatisticsAnswer>({
      namespace: 'statistics',
      ttlMs: Math.max(1, ttlSeconds * 1000),
      maxEntries: 500,
      keep: (answer) => ttlSeconds > 0 && answer.reusable,
    });
  }

  /**
   * The answer for `key` at snapshot `asOfMs` (or at the snapshot of an identical computation
   * joined), computing it with `compute` when nobody has. The computation is not the caller's:
   * `signal` only stops this caller's wait.
   */
  async answer(key: StatisticsKey, asOfMs: number, compute: (asOfMs: number) => Promise<StatisticsAnswer>, signal: AbortSignal): Promise<StatisticsAnswer> {
    const question = cacheKey(key.scope, key.fingerprint, key.need);
    const closed = key.filterToMs !== null && key.filterToMs <= asOfMs + 1;
    const joined = closed ? undefined : this.latest.get(question);
    const joins = joined !== undefined && joined.asOfMs <= asOfMs && (joined.endedAtMs === null || this.now() - joined.endedAtMs <= JOIN_MS);
    const snapshot = joins ? joined.asOfMs : asOfMs;
    const entry = cacheKey(question, String(countedWindowEnd(key.filterToMs, snapshot)));
    const pending = this.answers.getOrFetch(entry, async () => {
      const computation = { asOfMs: snapshot, endedAtMs: null as number | null };
      this.remember(question, computation);
      try {
        return await compute(snapshot);
      } finally {
        computation.endedAtMs = this.now();
      }
    });
    return (await untilAborted(pending, signal)).result;
  }

  private remember(question: string, computation: { asOfMs: number; endedAtMs: number | null }): void {
    this.latest.delete(question);
    this.latest.set(question, computation);
    if (this.latest.size > MAX_QUESTIONS) this.latest.delete(this.latest.keys().next().value!);
  }
}

/** Questions whose latest snapshot is remembered. */
const MAX_QUESTIONS = 1_000;

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
