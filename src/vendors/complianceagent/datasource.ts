import { z } from 'zod';
import { badUserInput, UpstreamError } from '../../errors';
import type { QueryValue, RequestCounter, UpstreamRequest, UpstreamResponse } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import {
  BROKEN_LINK_KINDS,
  MISMATCH_KINDS,
  type ChainProblemKind as ContractProblemKind,
  type ChainProblemModel,
  type ChainRewalkModel,
  type ComplianceHistoryOperations,
  type EvidenceExportOperations,
  type IntegrityVerificationOperations,
  type IntegrityWindow,
  type NativeSearchOperations,
  type NativeStatisticsOperations,
  type RetentionPolicyOperations,
  type Soc2EvidenceOperations,
} from '../../sources/compliance';
import type { EventRef, ListEventsRequest, ListEventsResult, SourceCapabilities, SourceQuery } from '../../sources/data-source';
import { onlyValue, windowQuery } from '../../sources/data-source';
import { HttpDataSource } from '../../sources/http-datasource';
import { unusableOf } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import * as api from './evidence';
import {
  ChainWalker,
  entryHash,
  hashOf,
  verifyChain,
  type ChainProblemKind,
  type ChainVerification,
  type ChainWalk,
  type TaggedProblem,
  type VerifyChainOptions,
} from './hash-chain';
import type {
  ComplianceHistoryModel,
  ComplianceStatisticsModel,
  EvidenceExportModel,
  IntegrityVerificationModel,
  RetentionPolicyModel,
  SearchField,
  SearchResultModel,
  Soc2EvidenceModel,
  StartEvidenceExportInput,
} from './models';
import { flattenComplianceAgentEntry, normalizeComplianceAgentLog, parseComplianceAgentLog, UNKNOWN_EVENT_TYPE } from './normalize';
import { CachedRetention } from './retention';
import { searchCandidates } from './search-candidates';

/** ComplianceAgent's config keys besides the common ones. */
export interface ComplianceAgentCredentials extends Record<string, unknown> {
  /** Sent as `Authorization: Bearer <apiKey>` (`ca_live_sk_…` / `ca_test_sk_…`). */
  apiKey: string;
}

/** Page-size bounds of `GET /audit/logs` (docs pattern: default 20, max 100). */
const MIN_LIMIT = 1;
const MAX_LIMIT = 100;
/** The documentation writes every path as `/api/v1/audit/...` from the host. */
const API_PREFIX = '/api/v1/audit';

/**
 * The host (plus any path prefix of a self-hosted install) of a configured `baseUrl`. The documentation's
 * paths already carry `/api/v1`, while its overview also shows bases ending in `/api/v1`; a
 * trailing `/api/v1` is therefore dropped so the version is never doubled.
 */
export function complianceAgentBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '') || '/';
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/** An offset into the pinned window: any positive whole number, not only those below 2^53 (`z.int()`), as states already issued were read. */
const offset = z.number().positive().refine(Number.isInteger);

/**
 * Resume states, as JSON in gateway cursors. Both pin the window's exclusive upper bound `t`
 * (ms) at the first batch: page numbers count from the newest entry, so events arriving at the
 * head would otherwise shift every later page and repeat entries; inside `[from, t)` offsets
 * stay put (late arrivals older than `t` excepted, which the gateway's settle window covers).
 * - `DESC`: `{t, o}`, `o` = entries of the pinned window already handed out, newest first;
 * - `ASC`: `{t, r}`, `r` = entries not yet handed out, i.e. offsets `[0, r)` counted from the
 *   newest: the API only sorts newest first, so oldest first reads pages from the last one back.
 * Offsets, not page numbers, are kept so that a caller may change `limit` between batches.
 */
const complianceAgentResumeSchema = z.union([z.strictObject({ t: z.number(), o: offset }), z.strictObject({ t: z.number(), r: offset })]);

type ComplianceAgentResume = z.infer<typeof complianceAgentResumeSchema>;

/** What of a {@link SourceQuery} goes upstream, and whether that is all of it. */
interface QueryPlan {
  params: Record<string, QueryValue>;
  /** True when the upstream applies the whole query (then `pagination.total` is an exact count). */
  exact: boolean;
}

/** The query fields {@link planComplianceAgentQuery} can send upstream; any other field set makes a plan inexact. */
const PLANNED_FIELDS: ReadonlySet<keyof SourceQuery> = new Set<keyof SourceQuery>(['fromMs', 'toMs', 'actions', 'repositoryIds']);

/**
 * Pushes down the window, one action (`event_type`) and one repository (`repository_id`): the
 * vendor compares each exactly, as the gateway does. Lists of several values cannot be expressed
 * and are left to the gateway, as is everything else, notably:
 * - actors: `actor` is never sent. The vendor describes it only as "user or system" and leaves
 *   open whether it compares the actor's id, email or type, and how (case, partial matches).
 *   The gateway's actor filters are exact (vendor id; email ignoring case; type), and a
 *   push-down whose upstream semantics are a guess could drop events the gateway would keep.
 * - free text: `/logs` has no text parameter (the `search` endpoint ranks, it does not filter).
 */
export function planComplianceAgentQuery(query: SourceQuery): QueryPlan {
  const params: Record<string, QueryValue> = {};
  if (query.fromMs !== null) params['from'] = new Date(query.fromMs).toISOString();
  // Entries without an event type are named `unknown`, which the upstream's filter cannot match.
  const action = onlyValue(query.actions);
  const pushedAction = action !== null && action !== UNKNOWN_EVENT_TYPE ? action : null;
  if (pushedAction !== null) params['event_type'] = pushedAction;
  const repositoryId = onlyValue(query.repositoryIds);
  if (repositoryId !== null) params['repository_id'] = repositoryId;
  const unplanned = (Object.keys(query) as (keyof SourceQuery)[]).some((field) => !PLANNED_FIELDS.has(field) && query[field] !== null);
  const exact = !unplanned && (query.actions === null || pushedAction !== null) && (query.repositoryIds === null || repositoryId !== null);
  return { params, exact };
}

/** Options of {@link ComplianceAgentDataSource} beyond its config, for tests. */
export interface ComplianceAgentDataSourceOptions {
  /** The clock the retention cache reads, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * ComplianceAgent audit logs (`GET /api/v1/audit/logs`, `GET /api/v1/audit/logs/{id}`) plus the
 * vendor's compliance endpoints (evidence export, verify, statistics, search, retention, SOC 2,
 * history) as typed extra methods. API key as Bearer; `baseUrl` is the host.
 */
export class ComplianceAgentDataSource extends HttpDataSource<ComplianceAgentResume> {
  readonly vendor = 'complianceagent' as const;
  protected readonly resumeSchema = complianceAgentResumeSchema;
  readonly capabilities: SourceCapabilities = {
    nativeOrder: 'DESC',
    bothOrders: false,
    pagingKind: 'PAGE_NUMBER',
    minPageSize: MIN_LIMIT,
    maxPageSize: MAX_LIMIT,
    nativeFilters: ['window', 'actions', 'repositoryIds'],
    recordedFields: ['actorEmail', 'clientIp', 'userAgent', 'sessionId', 'requestId', 'repository'],
    getById: true,
    countsTotal: true,
    // Each organisation sets its own period, read from the vendor by `currentRetentionDays`;
    // there is no fixed one to fall back on.
    retentionDays: null,
  };
  private readonly headers: Record<string, string>;
  private readonly api: api.ComplianceAgentApi;
  private readonly retention: CachedRetention;

  // The optional operations of the datasource contract: ComplianceAgent offers every one.
  readonly evidenceExport: EvidenceExportOperations = {
    start: (input, signal) => this.startEvidenceExport(input, signal),
    get: (jobId, signal) => this.getEvidenceExport(jobId, signal),
  };
  readonly integrityVerification: IntegrityVerificationOperations = {
    vendorVerdict: (window, signal) => this.verifyIntegrity(window, signal),
    rewalk: (window, options, signal) => this.rewalk(window, options, signal),
  };
  readonly complianceHistory: ComplianceHistoryOperations = { history: (input, signal) => this.getComplianceHistory(input, signal) };
  readonly retentionPolicy: RetentionPolicyOperations = { policy: (signal) => this.getRetentionPolicy(signal) };
  readonly soc2Evidence: Soc2EvidenceOperations = { evidence: (input, signal) => this.getSoc2Evidence(input, signal) };
  readonly nativeSearch: NativeSearchOperations = {
    search: (input, signal) => this.search(input, signal),
    candidates: (input, signal) => searchCandidates({ search: (query, s) => this.search(query, s), findEvent: (id, s) => this.findEvent(id, s) }, input, signal),
  };
  readonly nativeStatistics: NativeStatisticsOperations = { statistics: (input, signal) => this.getStatistics(input, signal) };

  constructor(config: BaseSourceConfig & ComplianceAgentCredentials, deps: DataSourceDeps, options: ComplianceAgentDataSourceOptions = {}) {
    super(config, deps, { defaultName: `ComplianceAgent (${config.id})`, secrets: [config.apiKey], baseUrl: complianceAgentBaseUrl(config.baseUrl) });
    this.headers = { authorization: `Bearer ${config.apiKey}` };
    this.api = { sourceId: this.sourceId, call: (request) => this.call(request) };
    this.retention = new CachedRetention({
      read: async (signal) => (await this.getRetentionPolicy(signal)).auditLogs?.retentionDays ?? null,
      onFailure: (error) =>
        // Only the error code: nothing the upstream sent and nothing of the request.
        this.logger.warn({ source: this.sourceId, code: error instanceof UpstreamError ? error.code : 'UNKNOWN' }, 'retention policy unavailable; keeping the last known period'),
      readTimeoutMs: config.timeouts.requestMs + 1_000,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** The API key, as Bearer on every request. */
  protected authorize(): Record<string, string> {
    return this.headers;
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    return (await this.readBatch(request)).result;
  }

  /**
   * One batch, and the entries it handed out as received (list form, in the API's order,
   * unplaceable ones included), for the chain check. Offsets count every entry the upstream
   * listed, placeable or not: page numbers and `total` count them too, so an entry left out must
   * still move the position, or the next batch would repeat entries or end early.
   */
  private async readBatch(request: ListEventsRequest): Promise<BatchRead> {
    const counter: RequestCounter = { requests: 0 };
    const resume = this.readResume(request.resume);
    const limit = clamp(request.limit);
    const plan = planComplianceAgentQuery(request.query);
    const fetch = (page: number, pageLimit: number, toMs: number | null) => this.fetchPage(plan, page, pageLimit, toMs, request.signal, counter);
    const done = (entries: EntrySlot[], next: ComplianceAgentResume | null) => handOut(entries, next, counter);

    if (resume === null) {
      // Without an upper bound from the caller, the window ends now (exclusive): an event written
      // later in the millisecond of the newest one listed would otherwise join the window and
      // shift every later page by one, repeating an entry.
      const pin = request.query.toMs ?? Date.now();
      const first = await fetch(1, limit, pin);
      if (first.entries.length === 0) return done([], null);
      const t = pinnedEnd(first.entries, pin);
      if (request.direction === 'DESC') return done(first.entries, first.entries.length < first.total ? { t, o: first.entries.length } : null);
      if (first.entries.length >= first.total) return done(first.entries, null);
      // Oldest first and more than one page: the last page of the pinned window comes next.
      return this.ascBatch(t, first.total, limit, fetch, done);
    }
    if ('o' in resume) {
      // Any `limit` works from any offset: read the page holding offset `o` and skip what precedes it.
      const page = Math.floor(resume.o / limit) + 1;
      const result = await fetch(page, limit, resume.t);
      const entries = result.entries.slice(resume.o % limit);
      const o = resume.o + entries.length;
      return done(entries, entries.length > 0 && o < result.total ? { t: resume.t, o } : null);
    }
    return this.ascBatch(resume.t, resume.r, limit, fetch, done);
  }

  /** `GET /logs/{id}`: the time of `ref` is not needed. */
  getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    return this.findEvent(ref.sourceEventId, signal);
  }

  /** One entry by id (`GET /logs/{id}`); null on a 404. */
  async findEvent(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null> {
    const response = await this.call({ method: 'GET', path: `/logs/${encodeURIComponent(sourceEventId)}`, signal, acceptStatuses: [404] });
    if (response.status === 404) return null;
    const data = isJsonObject(response.body) && response.body['success'] === true ? response.body['data'] : undefined;
    return this.eventOf(data, parseComplianceAgentLog, normalizeComplianceAgentLog);
  }

  /**
   * `policy.audit_logs.retention_days` of `GET /retention`, cached for ten minutes and read once
   * for concurrent callers. Never throws: on failure (or when `signal` aborts first) it answers
   * the last period read, or null before the first.
   */
  currentRetentionDays(signal: AbortSignal): Promise<number | null> {
    return this.retention.current(signal);
  }

  /** `pagination.total` of a one-entry page; exact when the whole query goes upstream, else null. */
  async countEvents(query: SourceQuery, signal: AbortSignal, counter: RequestCounter = { requests: 0 }): Promise<number | null> {
    const plan = planComplianceAgentQuery(query);
    if (!plan.exact) return null;
    const page = await this.fetchPage(plan, 1, 1, query.toMs, signal, counter);
    return page.total;
  }

  /** Starts an evidence package (needs the `write:audit` scope); poll {@link getEvidenceExport}. */
  startEvidenceExport(input: StartEvidenceExportInput, signal: AbortSignal): Promise<EvidenceExportModel> {
    return api.startEvidenceExport(this.api, input, signal);
  }

  /** An export job's status; null for a job the vendor does not know. */
  getEvidenceExport(jobId: string, signal: AbortSignal): Promise<EvidenceExportModel | null> {
    return api.getEvidenceExport(this.api, jobId, signal);
  }

  /** The vendor's own verification of its chain over `[fromMs, toMs)` (`POST /verify`). */
  verifyIntegrity(input: api.VerifyIntegrityInput, signal: AbortSignal): Promise<IntegrityVerificationModel> {
    return api.verifyIntegrity(this.api, input, signal);
  }

  /**
   * Checks a list of entries locally, without trusting the vendor's verdict: `entries` oldest
   * first, as events of this source (their `raw` is the hashed list form) or raw entries.
   * `firstBadIndex` names the first entry where the list stops being the original.
   */
  verifyEntries(entries: readonly (AuditEventModel | Readonly<Record<string, unknown>>)[], options: VerifyChainOptions = {}): ChainVerification {
    return verifyChain(entries.map((entry) => (isEventModel(entry) ? entry.raw : entry)), options);
  }

  /**
   * Reads `[fromMs, toMs)` oldest first and verifies it locally. The first entry must link to the
   * newest entry before `fromMs` (one more request to read it), or be the chain's genesis
   * (`previous_hash` null) when nothing precedes it. Every entry the upstream lists is checked,
   * including one the gateway cannot place, which is reported (`unplaceable`) rather than
   * skipped. With `repositoryId`, only that repository's entries are checked and counted, each
   * against whatever entry precedes it (the chain is organisation-wide). Entries are checked as
   * they are read, never held; more than `maxEntries` (default 1,000,000) is refused.
   */
  async verifyWindow(
    input: { fromMs?: number | null; toMs?: number | null; repositoryId?: string | null; maxEntries?: number },
    signal: AbortSignal,
  ): Promise<{ verification: ChainVerification; upstreamRequests: number }> {
    const { walk, upstreamRequests } = await this.walkWindow(input, signal);
    return { verification: walk.verification, upstreamRequests };
  }

  /**
   * The gateway's own check of `window` for the contract's integrity operation: refuses a window
   * of more than `maxEntries` entries before reading it (one request counts them), then walks it
   * and names each problem's entry as an event where the entry can be placed.
   */
  private async rewalk(window: IntegrityWindow, options: { maxEntries: number }, signal: AbortSignal): Promise<ChainRewalkModel> {
    const counter: RequestCounter = { requests: 0 };
    const { total } = await this.fetchPage(planComplianceAgentQuery(windowQuery(window.fromMs, window.toMs)), 1, 1, window.toMs, signal, counter);
    if (total > options.maxEntries) {
      throw badUserInput(
        `the window holds ${total} entries of source '${this.sourceId}'; the gateway re-walks at most ${options.maxEntries} at once: narrow from/to`,
        'ARGUMENT_OUT_OF_RANGE',
        'from',
      );
    }
    const { walk, anchorHash, upstreamRequests } = await this.walkWindow({ ...window, maxEntries: options.maxEntries }, signal);
    const problems = walk.tagged.flatMap((problem) => {
      const model = problemModel(problem);
      return model ? [model] : [];
    });
    const firstOf = (kinds: ReadonlySet<ContractProblemKind>): ChainProblemModel | null => {
      let first: TaggedProblem<EntrySlot> | null = null;
      for (const [kind, problem] of walk.firstByKind) {
        const contractKind = PROBLEM_KINDS[kind];
        if (contractKind && kinds.has(contractKind) && (first === null || problem.index < first.index)) first = problem;
      }
      return first ? problemModel(first) : null;
    };
    const { verification } = walk;
    return {
      valid: verification.valid,
      entriesChecked: verification.checked,
      hashMismatches: verification.hashMismatches,
      gapsDetected: verification.gapsDetected,
      unplaceableEntries: verification.unplaceable,
      verificationHash: verification.verificationHash,
      anchorHash,
      problems,
      firstMismatch: firstOf(MISMATCH_KINDS),
      firstMissingLink: firstOf(BROKEN_LINK_KINDS),
      upstreamRequests: upstreamRequests + counter.requests,
    };
  }

  /** Walks `[fromMs, toMs)` oldest first through a {@link ChainWalker}, anchored at the entry before it; see {@link verifyWindow}. */
  private async walkWindow(
    input: { fromMs?: number | null; toMs?: number | null; repositoryId?: string | null; maxEntries?: number },
    signal: AbortSignal,
  ): Promise<{ walk: ChainWalk<EntrySlot>; anchorHash: string | null; upstreamRequests: number }> {
    const fromMs = input.fromMs ?? null;
    const max = input.maxEntries ?? 1_000_000;
    let requests = 0;
    let anchorHash: string | null = null;
    if (fromMs !== null) {
      // The entry just before the window: the first entry of the window must link to it, so a
      // deletion right at the window's start is found, as the vendor's own check finds it.
      const before = await this.readBatch({ direction: 'DESC', query: windowQuery(null, fromMs), resume: null, limit: 1, signal });
      requests += before.result.upstreamRequests;
      const previous = before.entries[0];
      anchorHash = previous ? hashOf(previous.raw) : null;
    }
    const repositoryId = input.repositoryId ?? null;
    const walker = new ChainWalker<EntrySlot>({
      previousHash: anchorHash,
      ...(repositoryId !== null ? { include: (entry: Readonly<Record<string, unknown>>) => repositoryIdOf(entry) === repositoryId } : {}),
    });
    const query = windowQuery(fromMs, input.toMs ?? null);
    let walked = 0;
    let resume: ListEventsResult['next'] = null;
    do {
      const batch = await this.readBatch({ direction: 'ASC', query, resume, limit: MAX_LIMIT, signal });
      requests += batch.result.upstreamRequests;
      walked += batch.entries.length;
      if (walked > max) throw new RangeError(`verifyWindow: more than ${max} entries; narrow the window`);
      // Within a batch the API's order is newest first; the chain is checked oldest first. Every
      // entry the upstream listed is checked, unplaceable ones too: the chain check reports them
      // (and a link to or from them) rather than a chain that looks whole without them.
      for (let i = batch.entries.length - 1; i >= 0; i--) walker.push(batch.entries[i]!.raw, batch.entries[i]!);
      resume = batch.result.next;
    } while (resume !== null);
    return { walk: walker.finish(), anchorHash, upstreamRequests: requests };
  }

  getStatistics(input: { fromMs?: number | null; toMs?: number | null }, signal: AbortSignal): Promise<ComplianceStatisticsModel> {
    return api.getStatistics(this.api, input, signal);
  }

  search(input: { query: string; fields?: SearchField; limit?: number; fromMs?: number | null; toMs?: number | null }, signal: AbortSignal): Promise<SearchResultModel> {
    return api.search(this.api, input, signal);
  }

  getRetentionPolicy(signal: AbortSignal): Promise<RetentionPolicyModel> {
    return api.getRetentionPolicy(this.api, signal);
  }

  getSoc2Evidence(input: { criteria?: string | null; auditPeriodStart?: string | null; auditPeriodEnd?: string | null }, signal: AbortSignal): Promise<Soc2EvidenceModel> {
    return api.getSoc2Evidence(this.api, input, signal);
  }

  getComplianceHistory(input: api.ComplianceHistoryInput, signal: AbortSignal): Promise<ComplianceHistoryModel> {
    return api.getComplianceHistory(this.api, input, signal);
  }

  /** Oldest-first batch: the page holding offset `r - 1` (from the newest), up to offset `r`. */
  private async ascBatch(
    t: number,
    r: number,
    limit: number,
    fetch: (page: number, pageLimit: number, toMs: number | null) => Promise<LogPage>,
    done: (entries: EntrySlot[], next: ComplianceAgentResume | null) => BatchRead,
  ): Promise<BatchRead> {
    const page = Math.floor((r - 1) / limit) + 1;
    const start = (page - 1) * limit;
    const result = await fetch(page, limit, t);
    const entries = result.entries.slice(0, r - start);
    return done(entries, entries.length > 0 && start > 0 ? { t, r: start } : null);
  }

  private async fetchPage(
    plan: QueryPlan,
    page: number,
    limit: number,
    toMs: number | null,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<LogPage> {
    const response = await this.call({
      method: 'GET',
      path: '/logs',
      query: { ...plan.params, ...(toMs !== null ? { to: new Date(toMs).toISOString() } : {}), page, limit },
      signal,
      counter,
    });
    const body = response.body;
    if (!isJsonObject(body) || body['success'] !== true) throw this.malformed('body is not a success envelope');
    const entries = await this.entriesOf(body['data']);
    const pagination = body['pagination'];
    const total = isJsonObject(pagination) ? pagination['total'] : undefined;
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) throw this.malformed('pagination.total missing');
    return { entries, total };
  }

  /**
   * A page's entries in the API's order, each with its event or null. Unplaceable entries are
   * logged here, once per page read; they are counted when a batch hands them out
   * ({@link handOut}), so a page read twice (oldest first reads page 1 to learn the total) does
   * not count them twice: hence no counter here.
   */
  private async entriesOf(items: unknown): Promise<EntrySlot[]> {
    // The hash chain and the offsets need every entry at its position, placeable or not, while
    // the record policy yields only the placeable ones: each event is kept by the item it came
    // from, so the slots can be rebuilt in the API's order.
    const byItem = new Map<unknown, AuditEventModel>();
    const normalize = (item: unknown, sourceId: string): AuditEventModel => {
      const event = normalizeComplianceAgentLog(parseComplianceAgentLog(item), sourceId);
      byItem.set(item, event);
      return event;
    };
    // Throws for a `data` that is not a list; past it, `items` is one.
    await this.eventsOf(items, (item) => item, normalize, undefined);
    return (items as unknown[]).map((item) => {
      const event = byItem.get(item) ?? null;
      return { event, raw: event ? event.raw : receivedEntry(item) };
    });
  }

  /** One authorized request to a path under {@link API_PREFIX}, as the compliance endpoints ask for it. */
  private call(request: Omit<UpstreamRequest, 'headers'>): Promise<UpstreamResponse> {
    return this.send({ ...request, path: API_PREFIX + request.path });
  }
}

/** One entry of a page at its position: its event, or null when it cannot be placed; and the entry as received, in the list form. */
interface EntrySlot {
  event: AuditEventModel | null;
  raw: Readonly<Record<string, unknown>>;
}

/** One `GET /logs` page. */
interface LogPage {
  entries: EntrySlot[];
  total: number;
}

/** A batch: what `listEvents` answers, and the entries it passed, as received. */
interface BatchRead {
  result: ListEventsResult;
  entries: EntrySlot[];
}

/** A batch handing out `entries`: their events, and how many of them could not be placed. */
function handOut(entries: EntrySlot[], next: ComplianceAgentResume | null, counter: RequestCounter): BatchRead {
  const events = entries.flatMap((entry) => (entry.event ? [entry.event] : []));
  const unplaced = entries.length - events.length;
  if (unplaced > 0) counter.unusableRecords = (counter.unusableRecords ?? 0) + unplaced;
  return { result: { events, next, upstreamRequests: counter.requests, ...unusableOf(counter) }, entries };
}

/**
 * The exclusive end a traversal pins at its first page: just past the newest entry listed, or
 * `pin` when an entry of the page cannot be placed, since its time (unreadable, or not trusted)
 * may be newer than every placed one: the window must keep it, or the offsets after it would shift.
 */
function pinnedEnd(entries: readonly EntrySlot[], pin: number): number {
  if (entries.some((entry) => entry.event === null)) return pin;
  const newest = Math.max(...entries.map((entry) => entry.event!.occurredAtMs));
  return Math.min(pin, newest + 1);
}

/** An unplaceable entry as the chain check sees it: flattened when it is an object, else an empty one (no hash, no link). */
function receivedEntry(item: unknown): Readonly<Record<string, unknown>> {
  return isJsonObject(item) ? flattenComplianceAgentEntry(item) : {};
}

/** The chain check's problem kinds as the contract names them; the manifest checks are never asked for here. */
const PROBLEM_KINDS: Record<ChainProblemKind, ContractProblemKind | null> = {
  hash_mismatch: 'HASH_MISMATCH',
  missing_hash: 'MISSING_HASH',
  unplaceable: 'UNPLACEABLE',
  missing_record: 'MISSING_RECORD',
  inserted_record: 'INSERTED_RECORD',
  reordered: 'REORDERED',
  out_of_order: 'OUT_OF_ORDER',
  count_mismatch: null,
  last_hash_mismatch: null,
};

/** A problem of a walk, with the entry it names: its event, its id and its hashes as stored and as recomputed. */
function problemModel(problem: TaggedProblem<EntrySlot>): ChainProblemModel | null {
  const kind = PROBLEM_KINDS[problem.kind];
  const slot = problem.tag;
  if (!kind || !slot) return null;
  const id = slot.raw['id'];
  const previous = slot.raw['previous_hash'];
  let computedHash: string | null;
  try {
    computedHash = entryHash(slot.raw);
  } catch {
    // An entry JSON cannot carry whole has no hash to compare with.
    computedHash = null;
  }
  return {
    kind,
    position: problem.index,
    sourceEventId: slot.event?.sourceEventId ?? (typeof id === 'string' && id !== '' ? id : null),
    event: slot.event,
    storedHash: typeof slot.raw['hash'] === 'string' ? slot.raw['hash'] : null,
    computedHash,
    previousHash: typeof previous === 'string' ? previous : null,
  };
}

/** `repository.id` of an entry in the list form, or null. */
function repositoryIdOf(entry: Readonly<Record<string, unknown>>): string | null {
  const repository = entry['repository'];
  return isJsonObject(repository) && typeof repository['id'] === 'string' ? repository['id'] : null;
}

function isEventModel(value: AuditEventModel | Readonly<Record<string, unknown>>): value is AuditEventModel {
  return typeof value['sourceEventId'] === 'string' && isJsonObject(value['raw']);
}

function clamp(limit: number): number {
  return Math.max(MIN_LIMIT, Math.min(MAX_LIMIT, Math.floor(limit)));
}
