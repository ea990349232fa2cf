import { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../errors';
import type { RequestCounter } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import type { Direction, EventRef, ListEventsRequest, ListEventsResult, SourceCapabilities, SourceQuery, SourceResume } from '../../sources/data-source';
import { onlyIpv4Address, onlyValue, windowQuery } from '../../sources/data-source';
import { HttpDataSource } from '../../sources/http-datasource';
import { unusableOf } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import {
  normalizeAgilicusAudit,
  normalizeAgilicusAuthAudit,
  parseAgilicusAudit,
  parseAgilicusAuthAudit,
  parseAgilicusId,
  UNKNOWN_AUDIT_ACTION,
  withOccurrenceIds,
  type AgilicusIdParts,
  type AgilicusRecordKind,
} from './normalize';
import { forward, judgePage, nextProbeWidth, queryRange, upstreamWindow } from './paging';

/** Agilicus' config keys besides the common ones. */
export interface AgilicusCredentials extends Record<string, unknown> {
  /** A ready access token (JWT) from the customer's Agilicus issuer, sent as Bearer. */
  token: string;
  /** Organisation to read, sent as `org_id`; omitted = the token's default. */
  orgId?: string | undefined;
}

/**
 * `limit` bounds. The API takes any positive count, but a page of fewer than 10 records costs
 * more requests than it saves bytes, and a page of one record cannot show the upstream's order.
 * 5,000 is the largest the simulator serves.
 */
const MIN_LIMIT = 10;
const MAX_LIMIT = 5000;

/** One of the two endpoints that together make up an Agilicus source. */
interface Endpoint {
  kind: AgilicusRecordKind;
  path: string;
  listField: string;
  normalize(value: unknown, sourceId: string): AuditEventModel;
}

const ENDPOINTS: readonly [Endpoint, Endpoint] = [
  { kind: 'audit', path: '/v1/audits', listField: 'audits', normalize: (value, sourceId) => normalizeAgilicusAudit(parseAgilicusAudit(value), sourceId) },
  {
    kind: 'auth',
    path: '/v1/auth_audits',
    listField: 'auth_audits',
    normalize: (value, sourceId) => normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(value), sourceId),
  },
];

/** A forward ms bound of a position (see paging.ts; null = the open or query end). */
const bound = z.int().nullable();

/**
 * One endpoint's position, in forward ms: `t` top of what is left to list (inclusive), `b` bottom
 * of the next probe when probing, `g` the next probe step (see `judgePage`), `o` the upstream's
 * order once a page has shown it (`n` newest first, `o` oldest first), `x` set once the endpoint
 * has nothing left. Other keys are dropped rather than refused: cursors already issued were read so.
 */
const endpointPositionSchema = z.object({ t: bound, b: bound, g: bound, o: z.enum(['n', 'o']).optional(), x: z.literal(1).optional() });

type EndpointPosition = z.infer<typeof endpointPositionSchema>;

type UpstreamOrder = NonNullable<EndpointPosition['o']>;

/** Resume state, as JSON in gateway cursors: the direction it was made for and one position per endpoint. */
const agilicusResumeSchema = z.object({ d: z.enum(['ASC', 'DESC']), e: z.tuple([endpointPositionSchema, endpointPositionSchema]) });

type AgilicusResume = z.infer<typeof agilicusResumeSchema>;

/** The next far-side probe of an endpoint: its width, or (after an empty one) the step to grow by. */
interface EndpointProbe {
  width: number | null;
  step: number | null;
}

/** What reading one endpoint for a batch gave. */
type EndpointOutcome =
  | { kind: 'skipped' }
  /** Nothing usable; `position` is where to probe next, and nothing at or below `top` can join the batch. */
  | { kind: 'shrink'; position: EndpointPosition; top: number }
  /** Every record of `[from, top]` is in `known`. */
  | { kind: 'read'; known: AuditEventModel[]; from: number; probe: EndpointProbe };

/** The lowest forward time a batch can hand out after `outcome`. */
function floorAfter(outcome: EndpointOutcome): number {
  if (outcome.kind === 'read') return outcome.from;
  return outcome.kind === 'shrink' ? outcome.top + 1 : -Infinity;
}

/**
 * True when a full page of the endpoint will hold the records nearest the top: its upstream lists
 * newest first and so does the traversal, or the order is not known yet and newest first, the
 * usual upstream order, is asked for. Such a page is usable as far down as it reaches.
 */
function expectsNearSide(position: EndpointPosition, direction: Direction): boolean {
  if (position.x) return true;
  return position.o === undefined ? direction === 'DESC' : (position.o === 'n') === (direction === 'DESC');
}

/** A page of one endpoint: records with their base ids, whether the limit was reached, the order it shows (null: one timestamp). */
interface EndpointPage {
  events: AuditEventModel[];
  full: boolean;
  order: UpstreamOrder | null;
}

/**
 * Agilicus audit and authentication records (`GET /v1/audits`, `GET /v1/auth_audits`) as one
 * stream, Bearer token. Both are limit-only: the datasource slides a `dt_from`/`dt_to` window
 * and sorts by `time` itself. Each batch reads the endpoints one after the other and hands out
 * only the time range both are complete over, so batches stay monotone across the merge; the
 * second read is narrowed to that range. Timestamp groups are handed out whole (a group larger
 * than a page is read alone with the largest limit), which also keeps derived ids stable.
 *
 * Which end of a window a full page was cut from is learnt from the pages (newest first here);
 * newest first costs about one request per endpoint and limit, oldest first about three times
 * that, as the window must be narrowed towards the oldest records (see paging.ts).
 *
 * Pushed down when the query has exactly one value: `user_id` (actorIds, both endpoints),
 * `action` (audits), `target_id` (audits) / `client_id` (auth); on auth records only, `source_ip`
 * (one IPv4 address, the one form whose text the upstream's exact comparison cannot miss),
 * `session_id` (sessionIds, matched against the record's `session`) and `trace_id` (traceIds).
 * `/v1/audits` has no parameter for a client address, session or trace, so there the gateway
 * applies them. Left to the gateway on purpose, because the upstream's comparison is not the
 * gateway's:
 * - `request_id`: only the newest SDK has it, and an older upstream would ignore it;
 * - `target_resource_type` for targetTypes: a target's type falls back to `api_name`, then
 *   `unknown`, for records without a resource type (the 8-field `Audit` of older SDKs has
 *   neither), and the upstream's filter cannot see those;
 * - `event_name` / `result` for an auth action: the action falls back to the deprecated `stage` /
 *   `event` for records written without the newer fields, which those filters cannot see either;
 * - `api_name`, `token_id`: no gateway filter means either.
 *
 * An endpoint none of whose records can match is not read at all, judged by what the normaliser
 * fills in: audit records carry a client address, a session and a trace id, but never a user
 * agent, a request id or a failed flag (`failed` is always null), so a query with `userAgents`,
 * `requestIds` or `failed` (true or false) skips `/v1/audits`; auth records are skipped for an
 * action without `:` or a target type other than `issuer_client`; each endpoint for actor types
 * its records never have; both for `actorEmails` and `repositoryIds`, which no record carries.
 * Event ids name their kind and millisecond, so `sourceEventIds` skips the endpoint of the other
 * kind and narrows the window to the milliseconds the ids name.
 */
export class AgilicusDataSource extends HttpDataSource<AgilicusResume> {
  readonly vendor = 'agilicus' as const;
  protected readonly resumeSchema = agilicusResumeSchema;
  readonly capabilities: SourceCapabilities = {
    nativeOrder: 'DESC',
    bothOrders: false,
    pagingKind: 'TIME_WINDOW',
    minPageSize: MIN_LIMIT,
    maxPageSize: MAX_LIMIT,
    nativeFilters: ['window', 'actions', 'actorIds', 'targetIds', 'clientIps', 'sessionIds', 'traceIds', 'sourceEventIds'],
    recordedFields: ['clientIp', 'userAgent', 'sessionId', 'requestId', 'traceId', 'failed'],
    getById: false,
    countsTotal: false,
    retentionDays: null,
  };
  private readonly headers: Record<string, string>;
  private readonly orgId: string | null;

  constructor(config: BaseSourceConfig & AgilicusCredentials, deps: DataSourceDeps) {
    super(config, deps, { defaultName: `Agilicus (${config.id})`, secrets: [config.token] });
    this.headers = { authorization: `Bearer ${config.token}` };
    this.orgId = config.orgId ?? null;
  }

  /** The configured access token, as Bearer on every request. */
  protected authorize(): Record<string, string> {
    return this.headers;
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const counter: RequestCounter = { requests: 0 };
    const { direction, signal } = request;
    const query = narrowedToIds(request.query);
    if (query === null) return { events: [], next: null, upstreamRequests: 0 };
    const limit = Math.max(MIN_LIMIT, Math.min(MAX_LIMIT, Math.floor(request.limit)));
    const { low, top: queryTop } = queryRange(direction, query);
    const filters = ENDPOINTS.map((endpoint) => this.filtersFor(endpoint, query));
    const positions = this.positionsOf(request.resume, direction, filters);

    // `floor`: everything at or above it (forward) is known for every endpoint read, so the batch
    // hands out exactly that range. A later endpoint's read is narrowed to the floor of the
    // earlier one: it never reads what the batch cannot hand out, and an endpoint whose records
    // all lie below the floor is not read at all. The first batch of a traversal is the exception
    // when both endpoints are expected to answer with the records nearest the top (a newest-first
    // upstream listed newest first): both start at the same top, so both reads are usable, and
    // reading them at once halves the wait for a traversal's first page.
    let floor = -Infinity;
    const outcomes: EndpointOutcome[] = [];
    const read = (i: number, below: number) =>
      this.readEndpoint(ENDPOINTS[i]!, positions[i]!, filters[i] ?? null, direction, low, queryTop, below, limit, signal, counter);
    if (request.resume === null && positions.every((position) => expectsNearSide(position, direction))) {
      outcomes.push(...(await settleBoth(ENDPOINTS.map((_endpoint, i) => read(i, floor)))));
      for (const outcome of outcomes) floor = Math.max(floor, floorAfter(outcome));
    } else {
      for (const i of ENDPOINTS.keys()) {
        const outcome = await read(i, floor);
        outcomes.push(outcome);
        floor = Math.max(floor, floorAfter(outcome));
      }
    }
    const reads = outcomes.map((outcome) => (outcome.kind === 'read' ? outcome : null));
    for (const [i, outcome] of outcomes.entries()) if (outcome.kind === 'shrink') positions[i] = outcome.position;

    const events: AuditEventModel[] = [];
    for (const [i, read] of reads.entries()) {
      if (!read) continue;
      events.push(...withOccurrenceIds(read.known.filter((event) => forward(direction, event.occurredAtMs) >= floor)));
      // What is left below the floor is read again next time; the known-empty span above it is skipped.
      const left = read.known.map((event) => forward(direction, event.occurredAtMs)).filter((t) => t < floor);
      const top = left.length > 0 ? Math.max(...left) : read.from - 1;
      if (top < low || (left.length === 0 && read.from <= low)) {
        positions[i] = { t: null, b: null, g: null, x: 1 };
        continue;
      }
      const { width, step } = read.probe;
      const bottom = width === null ? null : top - width + 1;
      positions[i] = withOrder({ t: top, b: bottom !== null && bottom > low ? bottom : null, g: step }, positions[i]!.o ?? null);
    }

    events.sort((a, b) => (direction === 'DESC' ? b.occurredAtMs - a.occurredAtMs : a.occurredAtMs - b.occurredAtMs));
    const finished = positions.every((position) => position.x === 1);
    return { events, next: finished ? null : { d: direction, e: [positions[0]!, positions[1]!] }, upstreamRequests: counter.requests, ...unusableOf(counter) };
  }

  /**
   * Where each endpoint stands: read from a resume state made for `direction` (one made for the
   * other direction is an expired cursor, as its forward times are negated), or the start of the
   * window, where an endpoint none of whose records can match is finished before it is read.
   */
  private positionsOf(resume: SourceResume | null, direction: Direction, filters: readonly (Record<string, string> | null)[]): EndpointPosition[] {
    const state = this.readResume(resume);
    if (state === null) return filters.map((params): EndpointPosition => (params ? { t: null, b: null, g: null } : { t: null, b: null, g: null, x: 1 }));
    if (state.d !== direction) throw new UpstreamError(ErrorCode.UpstreamCursorExpired, this.sourceId, { logDetail: { reason: 'resume state of another direction' } });
    return [...state.e];
  }

  /**
   * Reads one endpoint's next page of `[bottom, top]` for a batch whose floor is `floor` so far
   * (nothing of the endpoint can join the batch when the floor is above its top, or when there is
   * no floor at all because an earlier endpoint is still looking for where its records are).
   */
  private async readEndpoint(
    endpoint: Endpoint,
    position: EndpointPosition,
    params: Record<string, string> | null,
    direction: Direction,
    low: number,
    queryTop: number,
    floor: number,
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<EndpointOutcome> {
    const top = position.t ?? queryTop;
    if (position.x || !params || floor > top || floor === Infinity) return { kind: 'skipped' };
    const bottom = Math.max(position.b ?? low, low, floor);
    const page = await this.fetchJudgeablePage(endpoint, params, direction, bottom, top, limit, signal, counter);
    const times = page.events.map((event) => forward(direction, event.occurredAtMs));
    // A page of one timestamp shows no order; an earlier page of this traversal may have.
    const order = page.order ?? position.o ?? null;
    if (order) position.o = order;
    const nearSide = order === null ? null : (order === 'n') === (direction === 'DESC');
    const verdict = judgePage(bottom, top, { times, full: page.full, nearSide }, position.g);
    if (verdict.kind === 'shrink') return { kind: 'shrink', position: withOrder({ t: position.t, b: verdict.bottom, g: verdict.gap }, order), top };
    let known = page.events;
    if (verdict.kind === 'group') {
      if (limit >= MAX_LIMIT && times.every((t) => t === verdict.at)) throw this.groupTooLarge(endpoint, verdict.at);
      const group = await this.fetchPage(endpoint, params, direction, verdict.at, verdict.at, MAX_LIMIT, signal, counter);
      if (group.full) throw this.groupTooLarge(endpoint, verdict.at);
      known = [...page.events.filter((_event, j) => times[j] !== verdict.at), ...group.events];
    }
    let probe: EndpointProbe = { width: null, step: null };
    if (position.b !== null) {
      // A probe that found room: size the next one from what this one held. An empty one may
      // have run past the end of the records, so the next read is the whole rest, which either
      // ends the traversal or shows where records are; `g` keeps the grown width for that.
      const width = nextProbeWidth(Number.isFinite(top) ? top - bottom + 1 : (position.g ?? 1), known.length, limit);
      probe = known.length === 0 ? { width: null, step: width } : { width, step: null };
    }
    return { kind: 'read', known, from: verdict.from, probe };
  }

  /**
   * No lookup by id upstream, but the id names its endpoint and millisecond: one read of that
   * millisecond. A reference whose time is not the id's names no record, so it costs no request.
   */
  async getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    const parts = parseAgilicusId(ref.sourceEventId);
    if (!parts || parts.occurredAtMs !== ref.occurredAtMs) return null;
    return this.readRecord(ref.sourceEventId, parts, signal);
  }

  /** As {@link getEvent}, with the time taken from the id itself; an id this source never gives out costs no request. */
  async findEvent(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null> {
    const parts = parseAgilicusId(sourceEventId);
    return parts ? this.readRecord(sourceEventId, parts, signal) : null;
  }

  /**
   * The record `id` names, read whole from its millisecond (copies are numbered within it). A
   * millisecond holding more records than one page would hide the rest, so it is refused rather
   * than answered with a null that may be wrong.
   */
  private async readRecord(id: string, parts: AgilicusIdParts, signal: AbortSignal): Promise<AuditEventModel | null> {
    const endpoint = ENDPOINTS[0].kind === parts.kind ? ENDPOINTS[0] : ENDPOINTS[1];
    const params = this.filtersFor(endpoint, windowQuery(null, null)) ?? {};
    const at = parts.occurredAtMs;
    const group = await this.fetchPage(endpoint, params, 'DESC', at, at, MAX_LIMIT, signal, { requests: 0 });
    const found = withOccurrenceIds(group.events).find((event) => event.sourceEventId === id);
    if (!found && group.full) throw this.groupTooLarge(endpoint, at);
    return found ?? null;
  }

  /** Query parameters of `endpoint` for `query`, or null when none of its records can match. */
  private filtersFor(endpoint: Endpoint, query: SourceQuery): Record<string, string> | null {
    // No Agilicus record names an email or a repository: such a filter matches nothing anywhere.
    if (query.actorEmails || query.repositoryIds) return null;
    if (query.sourceEventIds && !query.sourceEventIds.some((id) => parseAgilicusId(id)?.kind === endpoint.kind)) return null;
    const params = endpoint.kind === 'audit' ? auditParams(query) : authParams(query);
    if (params === null) return null;
    if (this.orgId !== null) params['org_id'] = this.orgId;
    const actorId = onlyValue(query.actorIds);
    if (actorId !== null) params['user_id'] = actorId;
    return params;
  }

  /** One page of the forward range `[bottom, top]`. */
  private async fetchPage(
    endpoint: Endpoint,
    params: Record<string, string>,
    direction: Direction,
    bottom: number,
    top: number,
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<EndpointPage> {
    const { fromMs, toMs } = upstreamWindow(direction, bottom, top);
    const response = await this.send({
      method: 'GET',
      path: endpoint.path,
      query: {
        ...params,
        limit,
        dt_from: fromMs === null ? null : new Date(fromMs).toISOString(),
        dt_to: toMs === null ? null : new Date(toMs).toISOString(),
      },
      signal,
      counter,
    });
    const body: unknown = response.body;
    if (!isJsonObject(body)) throw this.malformed('body is not an object', { endpoint: endpoint.path });
    // `limit` is required in both list models (the limit the server applied); the list itself
    // may be absent when empty, so `limit` is what tells an empty page from a foreign body.
    const applied = body['limit'];
    if (typeof applied !== 'number' || !Number.isInteger(applied) || applied < 1) throw this.malformed('no limit in body', { endpoint: endpoint.path });
    const records = body[endpoint.listField] ?? [];
    const events = await this.eventsOf(records, (value) => value, endpoint.normalize, counter);
    // Fullness counts what the upstream returned, placeable or not: a limit reached with records
    // that cannot be placed still means more may lie in the window. A record outside the window
    // asked for would break the batch edges, so it is dropped, but it counts too.
    const returned = Array.isArray(records) ? records.length : 0;
    const inWindow = events.filter((event) => {
      const t = forward(direction, event.occurredAtMs);
      return t >= bottom && t <= top;
    });
    return { events: inWindow, full: returned >= Math.min(applied, limit), order: orderOf(events) };
  }

  /**
   * A page of `[bottom, top]` with something to judge it by. A full page none of whose records
   * can be placed in the window shows neither where the records are nor which end the upstream
   * cut, so the window is read again at the largest limit; when even that is all unplaceable and
   * full, the window cannot be listed without losing records, which is refused rather than
   * answered short.
   */
  private async fetchJudgeablePage(
    endpoint: Endpoint,
    params: Record<string, string>,
    direction: Direction,
    bottom: number,
    top: number,
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<EndpointPage> {
    const page = await this.fetchPage(endpoint, params, direction, bottom, top, limit, signal, counter);
    if (!page.full || page.events.length > 0) return page;
    const wider = limit < MAX_LIMIT ? await this.fetchPage(endpoint, params, direction, bottom, top, MAX_LIMIT, signal, counter) : page;
    if (wider.full && wider.events.length === 0) {
      throw this.malformed(`a full page of ${MAX_LIMIT} records none of which can be placed in the window`, { endpoint: endpoint.path });
    }
    return wider;
  }

  private groupTooLarge(endpoint: Endpoint, at: number): UpstreamError {
    return new UpstreamError(ErrorCode.UpstreamResponseTooLarge, this.sourceId, {
      logDetail: { reason: `more than ${MAX_LIMIT} records share one millisecond; paging cannot split them`, endpoint: endpoint.path, at },
    });
  }
}

/** `/v1/audits` parameters of `query` besides the shared ones, or null when no audit record can match it. */
function auditParams(query: SourceQuery): Record<string, string> | null {
  if (query.actorTypes && !query.actorTypes.some((type) => type === 'USER' || type === 'SYSTEM')) return null;
  // An audit record has no user agent, request id or result, so the normaliser leaves them null,
  // and a null never matches these filters (`failed: false` included).
  if (query.userAgents || query.requestIds || query.failed !== null) return null;
  const params: Record<string, string> = {};
  const action = onlyValue(query.actions);
  // Records without `action` normalise to the placeholder, which the upstream cannot match.
  if (action !== null && action !== UNKNOWN_AUDIT_ACTION) params['action'] = action;
  const targetId = onlyValue(query.targetIds);
  if (targetId !== null) params['target_id'] = targetId;
  return params;
}

/** `/v1/auth_audits` parameters of `query` besides the shared ones, or null when no auth record can match it. */
function authParams(query: SourceQuery): Record<string, string> | null {
  if (query.actorTypes && !query.actorTypes.some((type) => type === 'USER' || type === 'ANONYMOUS')) return null;
  // Auth actions are `<event_name>:<result>`; the endpoint has no filter that matches them exactly.
  if (query.actions && !query.actions.some((action) => action.includes(':'))) return null;
  if (query.targetTypes && !query.targetTypes.includes('issuer_client')) return null;
  const params: Record<string, string> = {};
  const pushed: Array<[string, string | null]> = [
    ['client_id', onlyValue(query.targetIds)],
    ['source_ip', onlyIpv4Address(query)],
    ['session_id', onlyValue(query.sessionIds)],
    ['trace_id', onlyValue(query.traceIds)],
  ];
  for (const [name, value] of pushed) if (value !== null) params[name] = value;
  return params;
}

/**
 * `query` with its window narrowed to the milliseconds its `sourceEventIds` name (a derived id
 * carries its record's time, and only an id that parses can be one of this source's), or null
 * when no event can match: no id parses, or none lies in the window.
 */
function narrowedToIds(query: SourceQuery): SourceQuery | null {
  if (query.sourceEventIds === null) return query;
  const times = query.sourceEventIds.flatMap((id) => {
    const parts = parseAgilicusId(id);
    return parts ? [parts.occurredAtMs] : [];
  });
  if (times.length === 0) return null;
  const fromMs = Math.max(query.fromMs ?? -Infinity, Math.min(...times));
  const toMs = Math.min(query.toMs ?? Infinity, Math.max(...times) + 1);
  return fromMs < toMs ? { ...query, fromMs, toMs } : null;
}

/**
 * The outcomes of both endpoint reads of a batch read at once; when one fails, its failure, but
 * only once the other read has ended too. The other read is deliberately not aborted: aborting
 * drops a request that may already be on the wire, and the upstream still serves it, possibly
 * only after the failed call has returned and its caller has moved on (a loaded upstream, or a
 * test's simulator that has not yet read the socket). A failed batch would then leave a request
 * behind that lands on whatever the caller does next. Waiting keeps every request of a batch
 * inside its call, at the price of a failure being reported no sooner than the other read ends
 * (its own retries included, bounded by the client's deadline); the caller's signal still stops
 * both at once.
 */
async function settleBoth(reads: readonly Promise<EndpointOutcome>[]): Promise<EndpointOutcome[]> {
  const failures: unknown[] = [];
  const outcomes = await Promise.all(
    reads.map((reading) =>
      reading.catch((error: unknown): EndpointOutcome => {
        failures.push(error);
        return { kind: 'skipped' };
      }),
    ),
  );
  if (failures.length > 0) throw failures[0];
  return outcomes;
}

/**
 * The order a page shows: oldest first only when sorted so with distinct ends; null when all its
 * records share one timestamp (nothing to tell); newest first otherwise, unsorted pages included,
 * as the common choice. Only which end of the window a full page was cut from matters; the
 * order within it is never relied on.
 */
function orderOf(events: readonly AuditEventModel[]): UpstreamOrder | null {
  const first = events[0]?.occurredAtMs;
  const last = events[events.length - 1]?.occurredAtMs;
  if (first === undefined || last === undefined || events.every((event) => event.occurredAtMs === first)) return null;
  for (let i = 1; i < events.length; i++) if (events[i]!.occurredAtMs < events[i - 1]!.occurredAtMs) return 'n';
  return first < last ? 'o' : 'n';
}

function withOrder(position: EndpointPosition, order: UpstreamOrder | null): EndpointPosition {
  return order ? { ...position, o: order } : position;
}
