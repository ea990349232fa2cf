import { FetchCache } from '../cache/fetch-cache';
import { GenerationalCache } from '../cache/generational-cache';
import type { SharedStore } from '../cache/redis-store';
import type { ListEventsResult } from '../sources/data-source';
import { RecentEvents } from './recent-events';

/**
 * Batches of upstream events by (source, query, direction, resume state). A page of a merged
 * connection fetches more from a source than it lists; the next page resumes from the batch that
 * holds its first unlisted event and finds it here instead of asking the upstream again.
 */
export type BatchCache = Pick<FetchCache<ListEventsResult>, 'getOrFetch'>;

/** Counts by (source, query, snapshot), so that `totalCount` costs one request per traversal. */
export type CountCache = FetchCache<{ count: number | null }>;


/** The caches one gateway process shares between requests. */
export interface GatewayCaches {
  batches: FetchCache<ListEventsResult>;
  counts: CountCache;
  events: RecentEvents;
  /** Global ids of actors seen lately, by source and actor key (see `actorGlobalId`). */
  actorIds: GenerationalCache<string, string>;
}

/** Options for {@link createGatewayCaches}. */
export interface GatewayCacheOptions {
  /**
   * Events the batch cache holds at most, all batches together; default 10,000. An event with
   * its raw record takes 3 to 6 KB of heap depending on the vendor (measured on the simulators'
   * records: Port's entity snapshots are the largest), so the default bounds the cache at 30 to
   * 60 MB.
   */
  maxCachedEvents?: number;
  /** Events kept for refetch by id; default 10,000. */
  maxRecentEvents?: number;
  /**
   * The Redis replicas share (`server.cache.redisUrl`): batches and counts go there too, so that a
   * traversal continued on another replica reuses them. Recent events and actor ids stay local:
   * they are small and only save a lookup.
   */
  shared?: SharedStore | null;
}

export function createGatewayCaches(options: GatewayCacheOptions = {}): GatewayCaches {
  const eventsOf = (value: unknown) => (value as ListEventsResult | undefined)?.events.length ?? 1;
  return {
    batches: new FetchCache<ListEventsResult>({
      namespace: 'batches',
      weight: { maxWeight: options.maxCachedEvents ?? 10_000, weigh: eventsOf },
      ...(options.shared ? { shared: options.shared.cacheLayer<ListEventsResult>('batches') } : {}),
    }),
    counts: new FetchCache<{ count: number | null }>({
      namespace: 'counts',
      ttlMs: 300_000,
      ...(options.shared ? { shared: options.shared.cacheLayer<{ count: number | null }>('counts') } : {}),
    }),
    events: new RecentEvents(options.maxRecentEvents === undefined ? {} : { maxEvents: options.maxRecentEvents }),
    actorIds: new GenerationalCache<string, string>(5_000),
  };
}
