import type { Keyv } from 'keyv';
import type { ListEventsResult } from '../sources/data-source';
import { createKeyvCache } from './cache';

/** Options for {@link BatchCache}. */
export interface BatchCacheOptions {
  /** How long a fetched batch is reused by later pages of a traversal; default 120,000 ms. */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * Batches of upstream events by (source, query, direction, resume state). A page of a merged
 * connection fetches more from a source than it lists; the next page resumes from the batch that
 * holds its first unlisted event and finds it here instead of asking the upstream again. Cursors
 * stay self-contained: on a miss (another replica, eviction) the batch is simply fetched again.
 *
 * Two layers that never mix: concurrent identical fetches share one promise (in-flight
 * deduplication), and finished batches live in keyv with a TTL.
 */
export class BatchCache {
  private readonly store: Keyv<ListEventsResult>;
  private readonly inFlight = new Map<string, Promise<ListEventsResult>>();
  private readonly ttlMs: number;

  constructor(options: BatchCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 120_000;
    this.store = createKeyvCache<ListEventsResult>({ namespace: 'batches', maxEntries: options.maxEntries ?? 5_000 });
  }

  /** The cached batch for `key`, or the result of `fetch` (cached on success only: errors are never cached). */
  async getOrFetch(key: string, fetch: () => Promise<ListEventsResult>): Promise<{ result: ListEventsResult; cached: boolean }> {
    const hit = await this.store.get(key);
    if (hit) return { result: hit, cached: true };
    const pending = this.inFlight.get(key);
    if (pending) return { result: await pending, cached: true };

    const promise = fetch();
    this.inFlight.set(key, promise);
    try {
      const result = await promise;
      await this.store.set(key, result, this.ttlMs);
      return { result, cached: false };
    } finally {
      this.inFlight.delete(key);
    }
  }
}
