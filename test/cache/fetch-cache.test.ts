import { FetchCache } from '../../src/cache/fetch-cache';
import { cacheKey } from '../../src/cache/cache';
import type { ListEventsResult } from '../../src/sources/data-source';

const batch = (): ListEventsResult => ({ events: [], next: { c: 'next' }, upstreamRequests: 1 });

describe('FetchCache', () => {
  it('fetches a batch once and serves it from the cache afterwards', async () => {
    const cache = new FetchCache<ListEventsResult>({ namespace: 'test' });
    let fetches = 0;
    const fetch = async () => {
      fetches += 1;
      return batch();
    };
    expect((await cache.getOrFetch('k', fetch)).cached).toBe(false);
    const second = await cache.getOrFetch('k', fetch);
    expect(second).toEqual({ result: batch(), cached: true });
    expect(fetches).toBe(1);
  });

  it('shares one fetch between concurrent callers', async () => {
    const cache = new FetchCache<ListEventsResult>({ namespace: 'test' });
    let fetches = 0;
    const fetch = async () => {
      fetches += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return batch();
    };
    await Promise.all([cache.getOrFetch('k', fetch), cache.getOrFetch('k', fetch), cache.getOrFetch('k', fetch)]);
    expect(fetches).toBe(1);
  });

  it('never caches a failure', async () => {
    const cache = new FetchCache<ListEventsResult>({ namespace: 'test' });
    await expect(cache.getOrFetch('k', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect((await cache.getOrFetch('k', async () => batch())).cached).toBe(false);
  });

  it('forgets a batch after its TTL', async () => {
    const cache = new FetchCache<ListEventsResult>({ namespace: 'test', ttlMs: 20 });
    await cache.getOrFetch('k', async () => batch());
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect((await cache.getOrFetch('k', async () => batch())).cached).toBe(false);
  });

  it('builds hashed keys that do not contain their parts', () => {
    const key = cacheKey('source', 'CANARY-token');
    expect(key).not.toContain('CANARY');
    expect(key).toBe(cacheKey('source', 'CANARY-token'));
    expect(key).not.toBe(cacheKey('sourceC', 'ANARY-token'));
  });
});

describe('createGatewayCaches', () => {
  it('bounds the batch cache by the events it holds, dropping the least recently used batches', async () => {
    const { createGatewayCaches } = jest.requireActual<typeof import('../../src/connection/caches')>('../../src/connection/caches');
    const caches = createGatewayCaches({ maxCachedEvents: 10 });
    const withEvents = (n: number): ListEventsResult => ({ events: new Array(n).fill(null) as never[], next: null, upstreamRequests: 1 });
    await caches.batches.getOrFetch('a', async () => withEvents(6));
    await caches.batches.getOrFetch('b', async () => withEvents(6));
    expect(await caches.batches.peek('a')).toBeUndefined();
    expect((await caches.batches.peek('b'))?.events).toHaveLength(6);
  });
});
