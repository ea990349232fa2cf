import { createHmac } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event';
import { SyntheticDataset } from '../../simulation/dataset';
import { commonServerOptions, startSimulatorServer, type SimRequest, type SimResponse } from '../../simulation/server';
import type { RunningSimulator, SimulatorStartOptions } from '../../simulation/vendor-simulator';
import { NirvanaEntry, NS, nirvanaRecord } from './simulator-data';
import { nirvanaExpectedEvents } from './simulator-expected';
import {
  entryMatcher,
  firstFilterParam,
  MalformedFilter,
  NO_FILTERS,
  parseListFilters,
  windowRange,
  type NirvanaListFilters,
} from './simulator-filters';
import type { RawNirvanaAuditLogList } from './wire-types';

export { nirvanaRecord } from './simulator-data';

/**
 * A stand-in for Nirvana Labs' audit log API (`GET /v1/audit_logs`, `GET /v1/audit_logs/{id}`).
 *
 * Choices the vendor leaves open, made once here:
 * - order: newest first (`created_at` desc, ties by id desc) without `sort` and with
 *   `sort=created_at:desc`; `sort=created_at:asc` (current API) lists oldest first; any other
 *   `sort` is a 400 `{message}`. `legacyApi` ignores `sort`, as the legacy API did;
 *   `refuseSorts` answers the values it names with a 400, and `reverseSort` lists each sort in
 *   the opposite order (an upstream that misreads the parameter);
 * - `limit`: default 10, 10 to 100, anything else is a 400 `{message}`;
 * - filters (current API): `action`, `actor_id`, `actor_type` (user | api_key), `client_ip`,
 *   `method`, `target_id` and `target_type` compare exactly; `path` is a case-insensitive
 *   substring of the request path; `created_at_min` / `created_at_max` are RFC 3339 instants, both
 *   inclusive and compared at the precision given (digits beyond the millisecond are not
 *   dropped, which would widen a bound); `status_code_min` / `status_code_max` are inclusive
 *   integers. All combine with AND.
 *   A malformed value (a date that is not RFC 3339, a status that is not an integer, another
 *   actor type, a parameter given twice) is a 400 `{message}`. `legacyApi` ignores every filter,
 *   as the legacy API did; `refuseFilters` answers any of them with a 400, as an API that
 *   validates its parameters and does not know these would;
 * - cursors: opaque, HMAC-signed, and bound to the sort and the filters they were issued for
 *   (400 `{message}` with any other; no `sort` and `sort=created_at:desc` list alike but count as
 *   different sorts, the strictest reading of "only valid for the same filters and sort order");
 *   `next_cursor` follows the sort, `previous_cursor` goes back
 *   against it. Each is given only while a matching entry lies that way, so the last page of a
 *   listing says so itself instead of leading to an empty one;
 * - `pagination.total_count`: the entries matching the filters, whatever the cursor;
 * - errors: `{ "message": … }` with the SDK's status classes.
 *
 * Cost, for data sets of 20,000+ entries: a time window is a run of indexes found by binary
 * search (indexes ascend with time), so a request never looks outside its window; within it,
 * other filters scan from the page's start until the page is full (and one match further, for
 * the cursor), deriving only the fields they compare. `total_count` takes one scan of the window
 * per (filters, window), remembered, as entries never change once written.
 */
export interface NirvanaSimulatorOptions extends SimulatorStartOptions {
  /** The API key the simulator accepts; default a random one. */
  apiKey?: string;
  /** Time of the newest event, ms. */
  endMs?: number;
  knobs?: Parameters<typeof startSimulatorServer>[0]['knobs'];
  /**
   * Behave like the legacy API: `sort` and the list filters are ignored (the list is newest
   * first, unfiltered). By default the simulator follows the current API, which honours both.
   */
  legacyApi?: boolean;
  /** Answer a list request that carries any filter parameter with a 400 `{message}`. */
  refuseFilters?: boolean;
  /** `sort` values answered with a 400 `{message}`, as an API that validates `sort` and does not take them would. */
  refuseSorts?: readonly string[];
  /** List `created_at:asc` newest first and `created_at:desc` oldest first (no `sort` still lists newest first). */
  reverseSort?: boolean;
  /** Called with the query of every list request the simulator answers (tests check what a client sends). */
  observeList?(query: URLSearchParams): void;
}

interface PagePosition {
  /** 'o': entries older than index `i`; 'n': entries newer than index `i`. */
  d: 'o' | 'n';
  i: number;
  /** The sort the cursor was issued for ('a' = created_at:asc, 'd' = created_at:desc); absent = none. */
  s?: SortTag;
  /** Tag of the filters the cursor was issued for; absent = none. */
  f?: string;
}

/** Most (filters, window) counts remembered at once. */
const MAX_REMEMBERED_COUNTS = 256;

/** Starts the simulator on loopback. */
export async function startNirvanaSimulator(options: NirvanaSimulatorOptions): Promise<RunningSimulator> {
  const dataset = new SyntheticDataset({ size: options.size, seed: options.seed, ...(options.endMs !== undefined ? { endMs: options.endMs } : {}) });
  const apiKey = options.apiKey ?? `nl_sim_${createHmac('sha256', String(Math.random())).digest('hex').slice(0, 24)}`;
  const cursorKey = `nirvana-sim-${options.seed}`;
  const counts = new Map<string, number>();

  const mac = (text: string) => createHmac('sha256', cursorKey).update(text).digest('base64url').slice(0, 10);
  const encodeCursor = (position: PagePosition) => {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${mac(body)}`;
  };
  const decodeCursor = (cursor: string): PagePosition | null => {
    const [body, signature] = cursor.split('.');
    if (!body || !signature || mac(body) !== signature) return null;
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PagePosition;
    return parsed.d === 'o' || parsed.d === 'n' ? parsed : null;
  };
  const filtersTag = (filters: NirvanaListFilters) => (filters.key === '' ? undefined : mac(filters.key));

  const list = (request: SimRequest): SimResponse => {
    options.observeList?.(request.query);
    const limitText = request.query.get('limit');
    const limit = limitText === null ? 10 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 10 || limit > 100) return badRequest('limit must be an integer between 10 and 100');
    const cursorText = request.query.get('cursor');
    const position = cursorText ? decodeCursor(cursorText) : null;
    if (cursorText && !position) return badRequest('invalid cursor');
    const refused = options.refuseFilters ? firstFilterParam(request.query) : null;
    if (refused) return badRequest(`unknown query parameter: ${refused}`);
    let filters: NirvanaListFilters;
    try {
      filters = options.legacyApi ? NO_FILTERS : parseListFilters(request.query);
    } catch (error) {
      if (error instanceof MalformedFilter) return badRequest(error.message);
      throw error;
    }
    // The current API honours `sort` and ties a cursor to the sort and filters it was issued for.
    const sortText = options.legacyApi ? null : request.query.get('sort');
    if (sortText !== null && options.refuseSorts?.includes(sortText)) return badRequest(`unsupported sort: ${sortText}`);
    const sort = sortTagOf(sortText);
    if (sort === null) return badRequest('sort must be created_at:asc or created_at:desc');
    const ascending = listsAscending(sort, options.reverseSort === true);
    const tag = filtersTag(filters);
    if (position && position.s !== sort) return badRequest('cursor was issued for another sort order');
    if (position && position.f !== tag) return badRequest('cursor was issued for other filters');

    const scope = listScope(dataset, filters);
    const indexes = pageIndexes(scope, position, ascending, limit);
    const lowest = Math.min(...indexes);
    const highest = Math.max(...indexes);
    const cursorFields = { ...(sort ? { s: sort } : {}), ...(tag ? { f: tag } : {}) };
    const older = indexes.length > 0 && scope.find(lowest - 1, -1, 1).length > 0 ? encodeCursor({ d: 'o', i: lowest, ...cursorFields }) : null;
    const newer = indexes.length > 0 && scope.find(highest + 1, 1, 1).length > 0 ? encodeCursor({ d: 'n', i: highest, ...cursorFields }) : null;
    indexes.sort((a, b) => (ascending ? a - b : b - a));
    const body: RawNirvanaAuditLogList = {
      items: indexes.map((index) => nirvanaRecord(dataset, index)),
      // `next_cursor` follows the sort; `previous_cursor` goes back against it.
      pagination: { next_cursor: ascending ? newer : older, previous_cursor: ascending ? older : newer, total_count: countOf(scope, filters, counts) },
    };
    return { status: 200, json: body };
  };

  const server = await startSimulatorServer({
    ...commonServerOptions(options),
    errorBody: (status, message) => ({ message, status }),
    authorize: (request) =>
      request.headers.authorization === `Bearer ${apiKey}` ? null : { status: 401, json: { message: 'Unauthorized: invalid API key' } },
    append: (count) => dataset.append(count),
    routes: [
      { method: 'GET', pattern: '/v1/audit_logs', list: true, handle: list },
      {
        method: 'GET',
        pattern: '/v1/audit_logs/:id',
        handle: (_request, params) => {
          const index = dataset.indexOfUuid(params['id'] ?? '', NS.event);
          return index === null ? { status: 404, json: { message: 'audit log not found' } } : { status: 200, json: nirvanaRecord(dataset, index) };
        },
      },
    ],
  });

  return {
    baseUrl: server.baseUrl,
    credentials: { apiKey },
    control: server.control,
    dataset,
    stop: server.stop,
    // Built from the generator's choices, never by the normaliser under test.
    expectedEvents(sourceId: string): AuditEventModel[] {
      return nirvanaExpectedEvents(dataset, sourceId);
    },
  };
}

/** The sorts the simulator lists by, as cursors record them. */
type SortTag = 'a' | 'd';

/** The tag of a `sort` value: undefined for none, null for a value the API does not take. */
function sortTagOf(sortText: string | null): SortTag | undefined | null {
  if (sortText === null) return undefined;
  if (sortText === 'created_at:asc') return 'a';
  if (sortText === 'created_at:desc') return 'd';
  return null;
}

/** Whether a listing by `sort` runs oldest first; `reversed` misreads the direction of an explicit sort. */
function listsAscending(sort: SortTag | undefined, reversed: boolean): boolean {
  if (sort === undefined) return false;
  return (sort === 'a') !== reversed;
}

function badRequest(message: string): SimResponse {
  return { status: 400, json: { message } };
}

/** The entries one request may list: a run of indexes (its time window) and a test of each. */
interface ListScope {
  lo: number;
  hi: number;
  /** True when a filter besides the window applies: counting then takes a scan. */
  scans: boolean;
  /** Up to `limit` matching indexes from `from` on in steps of `step` (1 or -1), within `lo..hi`. */
  find(from: number, step: 1 | -1, limit: number): number[];
  /** The matching entries of the whole window. */
  count(): number;
}

function listScope(dataset: SyntheticDataset, filters: NirvanaListFilters): ListScope {
  const { lo, hi } = windowRange(dataset, filters);
  const matches = entryMatcher(filters);
  const find = (from: number, step: 1 | -1, limit: number): number[] => {
    const found: number[] = [];
    // A start beyond the window in the direction of travel begins at the window's edge.
    for (let index = step === 1 ? Math.max(lo, from) : Math.min(hi, from); index >= lo && index <= hi && found.length < limit; index += step) {
      if (!matches || matches(new NirvanaEntry(dataset, index))) found.push(index);
    }
    return found;
  };
  const count = () => {
    if (!matches) return Math.max(0, hi - lo + 1);
    let matching = 0;
    for (let index = lo; index <= hi; index++) if (matches(new NirvanaEntry(dataset, index))) matching += 1;
    return matching;
  };
  return { lo, hi, scans: matches !== null, find, count };
}

/** The indexes of the page a request asks for, in scan order. */
function pageIndexes(scope: ListScope, position: PagePosition | null, ascending: boolean, limit: number): number[] {
  if (!position) return ascending ? scope.find(scope.lo, 1, limit) : scope.find(scope.hi, -1, limit);
  return position.d === 'o' ? scope.find(position.i - 1, -1, limit) : scope.find(position.i + 1, 1, limit);
}

/** `total_count`, remembered per (filters, window) where it takes a scan: entries never change once written. */
function countOf(scope: ListScope, filters: NirvanaListFilters, counts: Map<string, number>): number {
  if (!scope.scans) return scope.count();
  const key = `${scope.lo}|${scope.hi}|${filters.key}`;
  let count = counts.get(key);
  if (count === undefined) {
    count = scope.count();
    if (counts.size >= MAX_REMEMBERED_COUNTS) counts.clear();
    counts.set(key, count);
  }
  return count;
}
