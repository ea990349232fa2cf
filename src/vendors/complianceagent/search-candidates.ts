import type { AuditEventModel } from '../../models/audit-event';
import type { SearchCandidates, SearchCandidatesInput, SearchField, SearchPart, SearchResultModel } from '../../sources/compliance';
import { UNKNOWN_EVENT_TYPE } from './normalize';

/** The most hits `GET /search` returns at once. */
const MAX_HITS = 100;
/** Entries read by id at once. */
const CONCURRENT_LOOKUPS = 8;

/**
 * The `fields` of `GET /search` whose text holds everything the gateway matches in a part of a
 * ComplianceAgent event. `/search` joins the values it searches with spaces and looks for the
 * query as a substring, case-insensitively: whatever occurs in one value occurs in the joined
 * text, so its hits are a superset of the gateway's. `details` searches every value of
 * `details`; `actor` the actor's name, email and id (the normaliser records no application or
 * automation for this vendor); `all` adds the event type. Other parts (target ids and types, the
 * request, repository ids) are searched by none.
 */
const FIELDS: Partial<Record<SearchPart, SearchField>> = { details: 'DETAILS', actor: 'ACTOR', action: 'ALL' };

/** What candidates are found with: the datasource's search and lookup by id. */
export interface SearchCandidatesApi {
  search(input: { query: string; fields: SearchField; limit: number; fromMs: number | null; toMs: number | null }, signal: AbortSignal): Promise<SearchResultModel>;
  findEvent(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null>;
}

/**
 * The events `/search` finds for one term, read by id: one request for the search and one per
 * hit. None (and nothing asked) for a part `/search` does not cover, and none when it has more
 * hits than it returns at once, since the rest cannot be had: the gateway then scans.
 */
export async function searchCandidates(api: SearchCandidatesApi, input: SearchCandidatesInput, signal: AbortSignal): Promise<SearchCandidates> {
  const fields = FIELDS[input.part];
  // An entry without an event type is listed with the action `unknown`, which `/search` never sees.
  if (!fields || (input.part === 'action' && UNKNOWN_EVENT_TYPE.includes(input.text))) return { events: null, upstreamRequests: 0 };
  const result = await api.search({ query: input.text, fields, limit: MAX_HITS, fromMs: input.fromMs, toMs: input.toMs }, signal);
  if (result.total > result.hits.length) return { events: null, upstreamRequests: 1 };
  // A real upstream may ignore the window: hits outside it are not asked for.
  const ids = result.hits
    .filter((hit) => (input.fromMs === null || hit.occurredAtMs >= input.fromMs) && (input.toMs === null || hit.occurredAtMs < input.toMs))
    .map((hit) => hit.sourceEventId);
  const events: AuditEventModel[] = [];
  for (let i = 0; i < ids.length; i += CONCURRENT_LOOKUPS) {
    const found = await Promise.all(ids.slice(i, i + CONCURRENT_LOOKUPS).map((id) => api.findEvent(id, signal)));
    for (const event of found) if (event) events.push(event);
  }
  return { events, upstreamRequests: 1 + ids.length };
}
