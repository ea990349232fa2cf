import { FetchCache } from '../cache/fetch-cache';
import type { ListEventsResult } from '../sources/data-source';
import type { CandidatesCache } from './native-search-source';

/** Events the search batch cache holds, all batches together (about 15 to 30 MB of heap). */
const SEARCH_CACHE_EVENTS = 5_000;

/** The caches searches share between requests. */
export interface SearchCaches {
  /** Batches of searches, apart from those of `auditEvents`: a native batch holds only a search's candidates. */
  searchBatches: FetchCache<ListEventsResult>;
  candidates: CandidatesCache;
}

export function createSearchCaches(): SearchCaches {
  const eventsOf = (value: unknown) => (value as ListEventsResult | undefined)?.events.length ?? 1;
  return {
    searchBatches: new FetchCache<ListEventsResult>({ namespace: 'search-batches', weight: { maxWeight: SEARCH_CACHE_EVENTS, weigh: eventsOf } }),
    // Outlives the batches built from it (120 s), so that a page served from cached batches still
    // knows how its sources were searched.
    candidates: new FetchCache({ namespace: 'search-candidates', ttlMs: 300_000, maxEntries: 1_000 }),
  };
}
