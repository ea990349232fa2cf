import { ErrorCode, UpstreamError } from '../../errors';
import type { RequestCounter } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject, type JsonValue } from '../../models/json';
import type { EventRef, ListEventsRequest, ListEventsResult, SourceCapabilities, SourceQuery, SourceResume } from '../../sources/data-source';
import { HttpDataSource } from '../../sources/http-datasource';
import { unusableOf } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { normalizeAsanaAuditLogEvent, parseAsanaAuditLogEvent } from './normalize';
import {
  MAX_LIMIT,
  MIN_LIMIT,
  WINDOW_CAP,
  asanaResumeSchema,
  clampLimit,
  initialWidth,
  isDescResume,
  isoOf,
  afterOverflow,
  afterWindow,
  overflows,
  pushDown,
  windowStart,
  windowTarget,
  descResumeJson,
  type AscResume,
  type AsanaFilterParams,
  type AsanaResume,
  type DescResume,
} from './paging';

/** Asana's config keys besides the common ones. `baseUrl` includes `/api/1.0`. */
export interface AsanaCredentials extends Record<string, unknown> {
  /** A service account token, sent as a Bearer token (user tokens cannot read the audit log). */
  token: string;
  /** The gid of the organization (domain) whose audit log is read. */
  workspaceGid: string;
}

/** Parameters of one `GET /workspaces/{gid}/audit_log_events`. */
interface PageParams extends AsanaFilterParams {
  start_at?: string;
  end_at?: string;
  limit: number;
  offset?: string;
}

interface Page {
  /** The records of `data` that could be placed. */
  events: AuditEventModel[];
  /** `data` as received, placed or not: only an empty `data` means "nothing more for now". */
  data: readonly unknown[];
  /** Records of `data` that could not be placed (see `normalizePage`). */
  unusable: number;
  /** `next_page.offset`; null when the API sent `next_page: null`. */
  offset: string | null;
}

/** How long a remembered start (floor and window width) is trusted. */
const START_HINT_TTL_MS = 5 * 60_000;
/** Steps of the search for the newest event when a query has no upper bound; each step is 4 times the last. */
const TOP_SEARCH_STEPS = 40;
/** The API's log starts on 2021-10-08: no record, placed or not, can be older. */
const LOG_START_MS = Date.UTC(2021, 9, 8);
/** The last instant a date-time can name (ECMAScript's limit). */
const LAST_TIME_MS = 8.64e15;
/** Requests one newest-first call may spend stepping through windows that hand out nothing. */
const CALL_REQUEST_BUDGET = 40;
/** Pages of one millisecond read to find an event again; more events than this in 1 ms is not plausible. */
const GET_EVENT_PAGES = 50;

/**
 * Asana's Audit Log API (`GET /workspaces/{workspace_gid}/audit_log_events`), service account
 * token as Bearer.
 *
 * Oldest first is native: one batch per page, following `next_page.offset` until `data` comes back
 * empty (Asana keeps sending `next_page` after the last event, for polling). Newest first steps
 * backwards through time windows (see `paging.ts`); its first call costs one probe for the
 * oldest matching event (the floor) and, only for a query without an upper bound, a short search
 * for the newest one.
 *
 * `nativeFilters` lists what is pushed down when single-valued, each exact by Asana's documented
 * semantics (see `pushDown`): `actions` -> `event_type`, `actorIds` -> `actor_gid`, `actorTypes`
 * -> `actor_type` (only SYSTEM, VENDOR_SUPPORT and ANONYMOUS), `targetIds` -> `resource_gid`, and
 * the window as `start_at`/`end_at`. Several values fall back to the gateway's filter.
 *
 * Records that cannot be placed (no gid or no usable `created_at`) are left out and counted in
 * `unusableRecords`, once each: a page counts them when its events are handed out, so pages read
 * only to measure (the floor probe, the top search, abandoned windows) count nothing.
 */
export class AsanaDataSource extends HttpDataSource<AsanaResume> {
  readonly vendor = 'asana' as const;
  readonly capabilities: SourceCapabilities = {
    nativeOrder: 'ASC',
    bothOrders: false,
    pagingKind: 'OFFSET_TOKEN',
    minPageSize: MIN_LIMIT,
    maxPageSize: MAX_LIMIT,
    nativeFilters: ['window', 'actions', 'actorIds', 'actorTypes', 'targetIds'],
    recordedFields: ['actorEmail', 'clientIp', 'userAgent', 'failed'],
    getById: false,
    countsTotal: false,
    // "Permanently deleted from our systems after 90 days" (the endpoint in Asana's OpenAPI spec).
    retentionDays: 90,
  };
  protected readonly resumeSchema = asanaResumeSchema;
  private readonly headers: Record<string, string>;
  /**
   * Per filter set: the oldest matching event and a window width that worked, from earlier
   * newest-first traversals. A fresh traversal then starts without probing for them. A floor
   * can only go stale downwards (retention removes old events), which costs an empty window at
   * the bottom, never an event.
   */
  private readonly startHints = new Map<string, { floor: number; width: number; atMs: number }>();
  private readonly path: string;

  constructor(config: BaseSourceConfig & AsanaCredentials, deps: DataSourceDeps) {
    super(config, deps, { defaultName: `Asana (${config.id})`, secrets: [config.token] });
    this.headers = { authorization: `Bearer ${config.token}` };
    this.path = `/workspaces/${encodeURIComponent(config.workspaceGid)}/audit_log_events`;
  }

  /** The service account token, as Bearer on every request. */
  protected authorize(): Record<string, string> {
    return this.headers;
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const counter: RequestCounter = { requests: 0 };
    const batch = request.direction === 'ASC' ? await this.listOldestFirst(request, counter) : await this.listNewestFirst(request, counter);
    return { ...batch, upstreamRequests: counter.requests, ...unusableOf(counter) };
  }

  /** No lookup by id exists: read the event's millisecond and pick it out by gid. */
  async getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    let offset: string | undefined;
    for (let page = 0; page < GET_EVENT_PAGES; page++) {
      const params: PageParams = { start_at: isoOf(ref.occurredAtMs), end_at: isoOf(ref.occurredAtMs + 1), limit: MAX_LIMIT };
      if (offset !== undefined) params.offset = offset;
      const result = await this.fetchPage(params, signal);
      const found = result.events.find((event) => event.sourceEventId === ref.sourceEventId);
      if (found) return found;
      const unplaced = result.data.find((item) => isJsonObject(item) && String(item['gid']) === ref.sourceEventId);
      // The record asked for is there but cannot be placed: an upstream fault, never a silent null.
      if (unplaced !== undefined) return this.eventOf(unplaced, parseAsanaAuditLogEvent, normalizeAsanaAuditLogEvent);
      if (result.data.length === 0 || result.offset === null) return null;
      offset = result.offset;
    }
    return null;
  }

  private async listOldestFirst(request: ListEventsRequest, counter: RequestCounter): Promise<Omit<ListEventsResult, 'upstreamRequests'>> {
    const resume = this.ascResume(request.resume);
    const params: PageParams = { ...bounds(request.query.fromMs, request.query.toMs), ...pushDown(request.query), limit: clampLimit(request.limit) };
    if (resume) params.offset = resume.o;
    const page = await this.fetchPage(params, request.signal, counter);
    countUnusable(counter, page.unusable);
    // Empty `data` is Asana's "nothing more for now"; `next_page` would keep coming forever. A
    // page of records that could not be placed is not empty: the log goes on after it.
    if (page.data.length === 0 || page.offset === null) return { events: page.events, next: null };
    return { events: page.events, next: { o: page.offset } };
  }

  private async listNewestFirst(request: ListEventsRequest, counter: RequestCounter): Promise<Omit<ListEventsResult, 'upstreamRequests'>> {
    const target = windowTarget(request.limit);
    const state = this.descResume(request.resume) ?? (await this.startNewestFirst(request.query, target, request.signal, counter));
    if (state === null) return { events: [], next: null };
    const hintKey = JSON.stringify(pushDown(request.query));
    // Empty and abandoned windows are valid batches, but handing them out one by one would cost
    // the gateway a call each; step on through them while this call's request budget lasts.
    for (let window = state; ; ) {
      const batch = await this.readWindow(window, pushDown(request.query), target, request.signal, counter);
      if (batch.events.length > 0 && batch.next) this.rememberWidth(hintKey, batch.next.w);
      if (batch.events.length > 0 || batch.next === null || counter.requests >= CALL_REQUEST_BUDGET) {
        return { events: batch.events, next: batch.next && descResumeJson(batch.next) };
      }
      window = batch.next;
    }
  }

  /** An oldest-first state of the request; one of the other direction is an expired cursor. */
  private ascResume(value: SourceResume | null): AscResume | null {
    const state = this.readResume(value);
    if (state === null || !isDescResume(state)) return state;
    throw this.otherDirection();
  }

  /** A newest-first state of the request; one of the other direction is an expired cursor. */
  private descResume(value: SourceResume | null): DescResume | null {
    const state = this.readResume(value);
    if (state === null || isDescResume(state)) return state;
    throw this.otherDirection();
  }

  private otherDirection(): UpstreamError {
    return new UpstreamError(ErrorCode.UpstreamCursorExpired, this.sourceId, { logDetail: { reason: 'resume state of another direction' } });
  }

  /** The first window: from the top (the query's end, else just above the newest event) down towards the floor. */
  private async startNewestFirst(query: SourceQuery, target: number, signal: AbortSignal, counter: RequestCounter): Promise<DescResume | null> {
    const filters = pushDown(query);
    const top = query.toMs ?? (await this.findTop(filters, query.fromMs, signal, counter));
    if (query.fromMs !== null && query.fromMs >= top) return null;
    const hint = this.startHints.get(JSON.stringify(filters));
    if (hint && Date.now() - hint.atMs < START_HINT_TTL_MS && hint.floor < top) {
      const floor = Math.max(hint.floor, query.fromMs ?? hint.floor);
      return { e: top, w: Math.max(1, Math.min(hint.width, top - floor)), f: floor };
    }
    // The oldest events bound the walk (no growing windows down to 2021) and give a first density.
    const probe = await this.fetchPage({ ...filters, ...bounds(query.fromMs, top), limit: MAX_LIMIT }, signal, counter);
    if (probe.data.length === 0) return null;
    const times = probe.events.map((event) => event.occurredAtMs);
    const floor = Math.min(floorOf(probe, query.fromMs), top - 1);
    const width = initialWidth(times, top, floor, probe.data.length === MAX_LIMIT, target);
    // Only a probed floor is remembered: a walk's own lower bound moves up as it goes.
    if (query.fromMs === null) this.rememberStart(JSON.stringify(filters), floor, width);
    return { e: top, w: width, f: floor };
  }

  private rememberStart(key: string, floor: number, width: number): void {
    if (this.startHints.size >= 1000) this.startHints.clear();
    this.startHints.set(key, { floor, width, atMs: Date.now() });
  }

  private rememberWidth(key: string, width: number): void {
    const hint = this.startHints.get(key);
    if (hint) hint.width = width;
  }

  /**
   * An exclusive upper bound above every matching event. Usually one probe (nothing at or after
   * now); clocks can disagree, so events stamped in the future are found by galloping upwards.
   */
  private async findTop(filters: AsanaFilterParams, fromMs: number | null, signal: AbortSignal, counter: RequestCounter): Promise<number> {
    let probeAt = Math.max(Date.now(), fromMs ?? 0);
    let step = 1000;
    for (let attempt = 0; attempt < TOP_SEARCH_STEPS && probeAt <= LAST_TIME_MS; attempt++) {
      const page = await this.fetchPage({ ...filters, start_at: isoOf(probeAt), limit: 1 }, signal, counter);
      if (page.data.length === 0) return probeAt;
      const first = page.events[0];
      if (first && first.occurredAtMs < probeAt) {
        throw new UpstreamError(ErrorCode.UpstreamProtocolError, this.sourceId, { logDetail: { reason: 'an event before start_at' } });
      }
      // A record that cannot be placed still lies at or after `probeAt`: step over it blindly.
      probeAt = (first?.occurredAtMs ?? probeAt) + step;
      step *= 4;
    }
    throw new UpstreamError(ErrorCode.UpstreamProtocolError, this.sourceId, { logDetail: { reason: 'no end to events in the future' } });
  }

  /**
   * Reads one window oldest first and hands it out whole. A window that proves too full is
   * abandoned (an empty batch) and narrowed; a 1 ms window is handed out in parts instead.
   */
  private async readWindow(
    state: DescResume,
    filters: AsanaFilterParams,
    target: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<{ events: AuditEventModel[]; next: DescResume | null }> {
    const start = windowStart(state);
    const width = state.e - start;
    const events: AuditEventModel[] = [];
    let unusable = 0;
    let newest = start;
    let offset = state.o;
    for (;;) {
      const params: PageParams = { ...filters, start_at: isoOf(start), end_at: isoOf(state.e), limit: MAX_LIMIT };
      if (offset !== undefined) params.offset = offset;
      const page = await this.fetchPage(params, signal, counter);
      events.push(...page.events);
      unusable += page.unusable;
      for (const event of page.events) newest = Math.max(newest, event.occurredAtMs);
      if (page.data.length === 0 || page.offset === null) {
        countUnusable(counter, unusable);
        // Earlier parts of a 1 ms window were handed out already: count them as a full window.
        const seen = events.length + (state.o === undefined ? 0 : WINDOW_CAP);
        return { events, next: afterWindow(state, start, seen, target) };
      }
      offset = page.offset;
      if (width === 1) {
        // One timestamp: any split is still monotone, so hand out what is buffered.
        if (events.length >= WINDOW_CAP) {
          countUnusable(counter, unusable);
          return { events, next: { ...state, o: offset } };
        }
        continue;
      }
      const covered = newest - start + 1;
      const full = page.data.length >= MAX_LIMIT;
      if (events.length >= WINDOW_CAP || (full && overflows(events.length, covered, width, state.g !== undefined))) {
        // Abandoned: its records are read again in the narrower windows, and counted there.
        return { events: [], next: afterOverflow(state, start, events.length, covered, target) };
      }
    }
  }

  /** One page; its unusable records are logged here, and counted by the caller that hands its events out. */
  private async fetchPage(params: PageParams, signal: AbortSignal, counter?: RequestCounter): Promise<Page> {
    let body: unknown;
    try {
      const response = await this.send({ method: 'GET', path: this.path, query: { ...params }, signal, counter });
      body = response.body;
    } catch (error) {
      if (params.offset !== undefined && error instanceof UpstreamError && error.httpStatus === 400) {
        // The same parameters were accepted without the offset, so the offset is what was refused:
        // Asana expires them. The traversal must restart knowingly, never silently from the top.
        throw new UpstreamError(ErrorCode.UpstreamCursorExpired, this.sourceId, { httpStatus: 400, logDetail: { ...error.logDetail } });
      }
      throw error;
    }
    if (!isJsonObject(body)) throw this.malformed('body is not an object');
    const data = body['data'];
    // A tally of this page alone: its unusable records count only once its events are handed out.
    const tally: RequestCounter = { requests: 0 };
    const events = await this.eventsOf(data, parseAsanaAuditLogEvent, normalizeAsanaAuditLogEvent, tally);
    return { events, data: Array.isArray(data) ? data : [], unusable: tally.unusableRecords ?? 0, offset: this.nextOffset(body['next_page']) };
  }

  /**
   * The offset to follow. `uri` and `path` are never requested, only checked: a link that leaves
   * the configured origin means the response cannot be trusted (SSRF through a hostile upstream).
   */
  private nextOffset(nextPage: JsonValue | undefined): string | null {
    if (nextPage === undefined || nextPage === null) return null;
    const offset = isJsonObject(nextPage) ? nextPage['offset'] : undefined;
    if (!isJsonObject(nextPage) || typeof offset !== 'string' || offset === '') throw this.malformed('next_page without an offset');
    const { uri, path } = nextPage;
    if (uri !== undefined && uri !== null && !(typeof uri === 'string' && this.isOwn(() => new URL(uri)))) {
      throw new UpstreamError(ErrorCode.UpstreamProtocolError, this.sourceId, { logDetail: { reason: 'next_page.uri leaves the configured origin' } });
    }
    if (path !== undefined && path !== null && !(typeof path === 'string' && /^\/(?!\/)/.test(path) && this.isOwn(() => this.client.resolve(path)))) {
      throw new UpstreamError(ErrorCode.UpstreamProtocolError, this.sourceId, { logDetail: { reason: 'next_page.path leaves the base path' } });
    }
    return offset;
  }

  private isOwn(url: () => URL): boolean {
    try {
      return this.client.isOwnUrl(url());
    } catch {
      return false;
    }
  }
}

/** Adds the records left out of a page whose events are handed out to the batch's tally. */
function countUnusable(counter: RequestCounter, unusable: number): void {
  if (unusable > 0) counter.unusableRecords = (counter.unusableRecords ?? 0) + unusable;
}

/**
 * The oldest time a newest-first walk must reach: the oldest placed event of the floor probe, or,
 * when the probe met records that cannot be placed (which may be older than all it placed), the
 * query's start or else the start of Asana's log, so that those records are read and counted too.
 */
function floorOf(probe: Page, fromMs: number | null): number {
  const oldestPlaced = Math.min(...probe.events.map((event) => event.occurredAtMs));
  if (probe.unusable === 0) return oldestPlaced;
  return fromMs ?? Math.min(LOG_START_MS, oldestPlaced);
}

/** `start_at` (inclusive) and `end_at` (exclusive), the same bounds as {@link SourceQuery}. */
function bounds(fromMs: number | null, toMs: number | null): Pick<PageParams, 'start_at' | 'end_at'> {
  const params: Pick<PageParams, 'start_at' | 'end_at'> = {};
  if (fromMs !== null) params.start_at = isoOf(fromMs);
  if (toMs !== null) params.end_at = isoOf(toMs);
  return params;
}
