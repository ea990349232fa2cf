import { createHash } from 'node:crypto';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';

/** Options for {@link createKeyvCache}. */
export interface KeyvCacheOptions {
  /** Entries kept before the least recently used is dropped; default 20,000. */
  maxEntries?: number;
  /**
   * Bounds the cache by weight instead: the least recently used entries go once the weights of
   * all entries pass `maxWeight`. A weight is in the unit `weigh` chooses (events, bytes, ...).
   */
  weight?: { maxWeight: number; weigh: (value: unknown) => number };
  /** Keyv namespace, e.g. `batches`. */
  namespace: string;
}

/**
 * A keyv cache over a bounded in-process LRU. Keyv's default Map never evicts; the LRU bounds
 * memory whatever the TTLs. Values are stored as objects, not serialised: this store is
 * in-process, and a shared store (Redis, …) can be put behind the same Keyv later.
 */
export function createKeyvCache<Value>(options: KeyvCacheOptions): Keyv<Value> {
  const store = new LruStore(options.maxEntries ?? 20_000, options.weight);
  const cache = new Keyv<Value>({ store, namespace: options.namespace, serialize: undefined, deserialize: undefined, throwOnErrors: true });
  return cache;
}

/**
 * The Map-like face keyv expects, over lru-cache. Keyv passes its TTL as a third argument to
 * `set`, which lru-cache would take for an options object and throw on; keyv keeps the expiry
 * inside the value and checks it on read, so the store only has to bound the entry count.
 */
class LruStore {
  private readonly lru: LRUCache<string, object>;

  constructor(max: number, weight?: KeyvCacheOptions['weight']) {
    this.lru = weight
      ? new LRUCache<string, object>({
          max,
          maxSize: weight.maxWeight,
          // Keyv stores `{ value, expires }`; weigh the value. Never 0: lru-cache wants >= 1.
          sizeCalculation: (entry) => Math.max(1, weight.weigh((entry as { value?: unknown }).value)),
        })
      : new LRUCache<string, object>({ max });
  }

  get(key: string): object | undefined {
    return this.lru.get(key);
  }

  set(key: string, value: object): boolean {
    this.lru.set(key, value);
    return true;
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  clear(): void {
    this.lru.clear();
  }
}

/**
 * A cache key from parts. Hashed, so that no part (a vendor token, a filter value) is kept in
 * clear as a key, and so that keys have a bounded length.
 */
export function cacheKey(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('base64url');
}
