import { badUserInput, ErrorCode, GatewayError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import { loadEventConnection, type EventConnectionDeps } from './events-connection';
import { eventGlobalId } from './global-id';

/** Longest vendor event id accepted, and the printable characters it may hold. */
const MAX_ID_LENGTH = 256;
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;
/**
 * Pages of a search, at the server's per-page request budget each, before a lookup in a source
 * without one gives up: 5 pages of 20 requests reads about 10,000 events of a vendor that pages by 100.
 */
const SEARCH_PAGES = 5;

/**
 * One event by its vendor id alone (`auditEventBySourceId`). A source whose datasource can look
 * an id up ({@link AuditDataSource.findEvent}) costs one lookup; elsewhere the source's log is
 * searched newest first, through the connection engine with a `sourceEventIds` filter, within
 * {@link SEARCH_PAGES} pages of the request budget. Never a silent null: an exhausted search is
 * null, an unfinished one LOOKUP_INCOMPLETE.
 */
export async function findEventBySourceId(sourceId: string, sourceEventId: string, deps: EventConnectionDeps): Promise<AuditEventModel | null> {
  const source = deps.sources.get(sourceId);
  if (!source) throw badUserInput(`source: unknown source '${sourceId.slice(0, 64)}'`, 'UNKNOWN_SOURCE', 'source');
  if (sourceEventId.length > MAX_ID_LENGTH || !PRINTABLE.test(sourceEventId)) {
    throw badUserInput(`sourceEventId: 1 to ${MAX_ID_LENGTH} printable characters`, 'INVALID_ID', 'sourceEventId');
  }
  const { dataSource } = source;
  if (dataSource.findEvent) {
    const found = await dataSource.findEvent(sourceEventId, deps.signal);
    if (found) deps.caches.events.remember(eventGlobalId(found), found);
    return found;
  }

  const filter = { sources: [sourceId], sourceEventIds: [sourceEventId] };
  let after: string | null = null;
  for (let page = 0; page < SEARCH_PAGES; page++) {
    const connection = await loadEventConnection({ first: 1, after, filter }, deps);
    const [failure] = connection.errors;
    if (failure) throw failure;
    const found = connection.edges[0]?.node;
    if (found) return found;
    if (!connection.pageInfo.hasNextPage) return null;
    after = connection.pageInfo.endCursor;
  }
  throw new GatewayError(
    ErrorCode.LookupIncomplete,
    `source '${sourceId}' has no lookup by id, and searching its log within the request budget did not reach this id; search a window with auditEvents(filter: {sources, sourceEventIds, from, to})`,
    { source: sourceId },
  );
}
