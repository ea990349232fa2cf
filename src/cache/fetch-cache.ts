import type { Keyv } from 'keyv';
import { createKeyvCache } from './cache';
import type { SharedCacheLayer } from './redis-store';

/** Options for {@link FetchCache}. */
export interface FetchCacheOptions<Value = unknown> {
  /** keyv namespace. */
  namespace: string;
  /** How long a result is reused; default 120,000 ms. */
  ttlMs?: number;
  /** Entries kept at most; default 5,000. */
  maxEntries?: number;
  /** A bound by weight as well, see `createKeyvCache`. */
  weight?: { maxWeight: number; weigh: (value: unknown) => number };
  /**
   * Whether a fetched result may be stored; default every one. A result it refuses (one that
   * holds a failure, say) is still shared with the callers that waited for it, and fetched
   * afresh by the next.
   */
  keep?: (value: Value) => boolean;
  /**
   * A second layer that replicas share (Redis): read on a local miss, written with every stored
   * result, so that a page one replica fetched serves a traversal continued on another. Values
   * must then be plain JSON. A failing layer is a miss.
   */
  shared?: SharedCacheLayer<Value>;
}

/**
 * Results of upstream fetches by key, so that later pages of a traversal reuse what earlier
 * pages fetched. Keys are built with `cacheKey` from the source, the exact query and the resume
 * state. Cursors stay self-contained: on a miss (another replica, eviction) the result is simply
 * fetched again.
 *
 * Two layers that never mix: concurrent identical fetches share one promise (in-flight
 * deduplication), and finished results live in keyv with a TTL.
 */
export class FetchCache<Value extends object> {
  private readonly store: Keyv<Value>;
  private readonly inFlight = new Map<string, Promise<Value>>();
  private readonly ttlMs: number;
  private readonly keep: (value: Value) => boolean;
  private readonly shared: SharedCacheLayer<Value> | null;

  constructor(options: FetchCacheOptions<Value>) {
    this.ttlMs = options.ttlMs ?? 120_000;
    this.keep = options.keep ?? (() => true);
    this.shared = options.shared ?? null;
    this.store = createKeyvCache<Value>({
      namespace: options.namespace,
      maxEntries: options.maxEntries ?? 5_000,
      ...(options.weight ? { weight: options.weight } : {}),
    });
  }

  /** The cached value for `key`, if any. */
  async peek(key: string): Promise<Value | undefined> {
    return (await this.store.get(key)) ?? (await this.fromShared(key));
  }

  /** Stores `value` under `key`. */
  async put(key: string, value: Value): Promise<void> {
    await this.store.set(key, value, this.ttlMs);
    await this.shared?.set(key, value, this.ttlMs);
  }

  /** The cached result for `key`, or the result of `fetch` (cached on success only: errors are never cached). */
  async getOrFetch(key: string, fetch: () => Promise<Value>): Promise<{ result: Value; cached: boolean }> {
    const hit = await this.store.get(key);
    if (hit) return { result: hit, cached: true };
    const pending = this.inFlight.get(key);
    if (pending) return { result: await pending, cached: true };

    // The shared layer is asked inside the in-flight promise, so that identical requests at once ask it once too.
    let fromShared = false;
    const promise = this.shared
      ? this.fromShared(key).then((shared) => {
          if (shared === undefined) return fetch();
          fromShared = true;
          return shared;
        })
      : fetch();
    this.inFlight.set(key, promise);
    try {
      const result = await promise;
      if (!fromShared && this.keep(result)) {
        await this.store.set(key, result, this.ttlMs);
        await this.shared?.set(key, result, this.ttlMs);
      }
      return { result, cached: fromShared };
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** The shared layer's value for `key`, kept locally too when found. */
  private async fromShared(key: string): Promise<Value | undefined> {
    if (!this.shared) return undefined;
    const value = await this.shared.get(key);
    if (value !== undefined && value !== null) await this.store.set(key, value, this.ttlMs);
    return value ?? undefined;
  }
}
