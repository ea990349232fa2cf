import { ErrorCode, UpstreamError } from '../../errors';
import type { QueryValue, RequestCounter, UpstreamRequest, UpstreamResponse } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import type { EventRef, ListEventsRequest, ListEventsResult, SourceCapabilities, SourceQuery, SourceResume } from '../../sources/data-source';
import { onlyValue } from '../../sources/data-source';
import { HttpDataSource } from '../../sources/http-datasource';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { PortTokenProvider } from './auth';
import {
  isDescResume,
  pageAsc,
  pageDesc,
  portResumeSchema,
  sortBatch,
  type AscResume,
  type DescResume,
  type FetchWindow,
  type PagedBatch,
  type PortResume,
  type WindowRead,
} from './paging';
import { ascCoverage, countUnplaced, descCoverage, notingUnplaced, type CoveredRange, type UnplacedRecord } from './unplaced';
import { PORT_RESOURCE_TYPES, type PortAction, type PortResourceType } from './wire-types';

/** Port's config keys besides the common ones: an API client's credentials (Port → Credentials). */
export interface PortCredentials extends Record<string, unknown> {
  clientId: string;
  clientSecret: string;
}

const AUDIT_PATH = '/v1/audit-log';
/** Largest batch the gateway may ask for; Port takes up to 10,000, but records carry entity snapshots. */
const MAX_PAGE = 1_000;

const VERB_TO_ACTION: ReadonlyMap<string, PortAction> = new Map([['created', 'CREATE'], ['updated', 'UPDATE'], ['deleted', 'DELETE']]);

/** One batch and the time range it covered, in which it counts the records it could not place. */
interface CoveredBatch {
  batch: PagedBatch<SourceResume>;
  covered: CoveredRange;
}

/** What a {@link SourceQuery} becomes upstream. */
export interface PortPushDown {
  /** Filter parameters for `GET /v1/audit-log` (window and limit excluded). */
  params: Record<string, QueryValue>;
  /** True when the query provably matches no Port record, so no request is needed. */
  matchesNothing: boolean;
}

function isResourceType(value: string): value is PortResourceType {
  return (PORT_RESOURCE_TYPES as readonly string[]).includes(value);
}

/**
 * The filters Port applies exactly as the gateway's own matcher does (or as a superset the gateway
 * narrows again); anything else is left to the gateway. Each parameter compares one field of the
 * record that the normaliser maps one to one:
 * - `resources` selects by `resourceType`, the first part of every action name and the type of
 *   every target (a record without a resource type has neither a matching action nor a target);
 * - `action` selects by `action`; `<resource>.<created|updated|deleted>` is exactly
 *   `resourceType` + `CREATE|UPDATE|DELETE`, and Port takes one action, so it is sent only when
 *   every asked action shares its verb;
 * - `status` and `identifier`: see {@link recordParams}.
 *
 * Target ids are never sent. Port's `entity`, `blueprint`, `run_id` and `webhookId` name a
 * resource that Port looks up (it answers 404 for one it cannot find, and checks the caller's
 * access to it), and logs of deleted entities come back only with `include_deleted_entities`,
 * which also needs the entity's blueprint (a target id does not carry it), a `status` (two
 * requests, and records without one would still be missing) and windows of at most a day. The
 * logs of a deleted resource, the ones an audit is most often about, could then be missing or
 * refused; and a target id read from `entityId`, `blueprintId` or a snapshot need not be the value
 * Port compares. So the gateway matches target ids itself, over the narrower read `resources` allows.
 */
export function portPushDown(query: SourceQuery): PortPushDown {
  // Another vendor's action names (`Token:Create`, `task_deleted`) cannot name a Port record:
  // only the others are pushed down, and none left means no request at all.
  const portActions = query.actions?.filter((name) => PORT_ACTION_SHAPE.test(name)) ?? null;
  if (portActions?.length === 0) return { params: {}, matchesNothing: true };
  const fromActions = portActions ? actionParams(portActions) : null;
  let resources = fromActions?.resources ?? null;
  if (query.targetTypes && query.targetTypes.every(isResourceType)) {
    const types = new Set(query.targetTypes as readonly PortResourceType[]);
    resources = resources ? new Set([...resources].filter((type) => types.has(type))) : types;
  }
  if (resources && resources.size === 0) return { params: {}, matchesNothing: true };

  const params: Record<string, QueryValue> = {};
  if (resources) params['resources'] = [...resources].sort();
  if (fromActions?.action) params['action'] = fromActions.action;
  return { params: { ...params, ...recordParams(query) }, matchesNothing: false };
}

/**
 * What every name `portActionName` writes ends with: a dot and the verb in lower snake case
 * (`created`, `timer_expired`, `unknown`), whatever the resource type before it holds.
 */
const PORT_ACTION_SHAPE = /\.[a-z0-9_]+$/;

/** `resources` and, when all share one verb, `action` for action names; null when any name is not `<resource>.<verb>`. */
function actionParams(actions: readonly string[]): { resources: Set<PortResourceType>; action: PortAction | null } | null {
  const parsed = actions.map((name) => /^([a-z]+)\.(created|updated|deleted)$/.exec(name));
  if (!parsed.every((match) => match !== null && isResourceType(match[1]!))) return null;
  const resources = new Set(parsed.map((match) => match![1] as PortResourceType));
  const verbs = new Set(parsed.map((match) => match![2]!));
  return { resources, action: verbs.size === 1 ? (VERB_TO_ACTION.get([...verbs][0]!) ?? null) : null };
}

/**
 * Filters on the record itself, each exact: `status` is `SUCCESS` or `FAILURE`, the very field
 * the normaliser turns into `failed` (a record with neither matches no `failed` filter, here or
 * upstream); `identifier` selects the one record with that id.
 */
function recordParams(query: SourceQuery): Record<string, QueryValue> {
  const params: Record<string, QueryValue> = {};
  if (query.failed !== null) params['status'] = query.failed ? 'FAILURE' : 'SUCCESS';
  const identifier = onlyValue(query.sourceEventIds);
  if (identifier !== null) params['identifier'] = identifier;
  return params;
}

/** A resume state read for the direction it was written for. */
type Position = { direction: 'DESC'; resume: DescResume | null } | { direction: 'ASC'; resume: AscResume | null };

/**
 * Port audit logs (`GET /v1/audit-log`) behind a client-credentials token. Port has no paging,
 * so batches are time windows (see `paging.ts`); both orders work, newest first is cheaper.
 */
export class PortDataSource extends HttpDataSource<PortResume> {
  readonly vendor = 'port' as const;
  readonly capabilities: SourceCapabilities = {
    nativeOrder: 'DESC',
    bothOrders: false,
    pagingKind: 'TIME_WINDOW',
    minPageSize: 1,
    maxPageSize: MAX_PAGE,
    // `sourceEventIds` only when there is one; target ids never (see `portPushDown`).
    nativeFilters: ['window', 'actions', 'targetTypes', 'failed', 'sourceEventIds'],
    recordedFields: ['failed'],
    getById: true,
    countsTotal: false,
    // Port's security page: the audit log is kept one year by default.
    retentionDays: 365,
  };
  protected readonly resumeSchema = portResumeSchema;
  private readonly tokens: PortTokenProvider;

  constructor(config: BaseSourceConfig & PortCredentials, deps: DataSourceDeps) {
    // Shared with the client on purpose: the token provider adds each access token, so logs scrub it too.
    const secrets = [config.clientId, config.clientSecret];
    super(config, deps, { defaultName: `Port (${config.id})`, secrets });
    this.tokens = new PortTokenProvider(this.client, { clientId: config.clientId, clientSecret: config.clientSecret }, secrets, config.timeouts.requestMs);
  }

  /** The cached access token as Bearer; the exchange that gets one is counted in `counter`. */
  protected async authorize(signal: AbortSignal, counter: RequestCounter | undefined): Promise<Record<string, string>> {
    return bearer(await this.tokens.token(signal, counter));
  }

  /**
   * Widened for Port's advice on expiry: a 401 means the token was revoked or expired early, so
   * the credentials are exchanged again and the request is sent once more. The first try keeps
   * the token it used, so that only that token is forgotten, never one a concurrent call just got.
   */
  protected override async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const token = await this.tokens.token(request.signal, request.counter);
    try {
      return await this.client.request({ ...request, headers: { ...request.headers, ...bearer(token) } });
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.httpStatus !== 401) throw error;
      this.tokens.invalidate(token);
      return super.send(request);
    }
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const { query, signal } = request;
    const counter: RequestCounter = { requests: 0 };
    const position = this.positionOf(request);
    const pushDown = portPushDown(query);
    if (pushDown.matchesNothing) return { events: [], next: null, upstreamRequests: 0 };

    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(request.limit)));
    const unplaced: UnplacedRecord[] = [];
    const fetch: FetchWindow = (window) =>
      this.fetchAudits({ ...pushDown.params, from: isoOrNull(window.from), to: isoOrNull(window.to), limit: window.limit }, signal, counter, unplaced);
    const { batch, covered } =
      position.direction === 'DESC' ? await this.newestFirst(fetch, query, position.resume, limit) : await this.oldestFirst(fetch, query, position.resume, limit);
    const unusableRecords = countUnplaced(unplaced, covered);
    return { events: sortBatch(batch.events, position.direction), next: batch.next, upstreamRequests: counter.requests, ...(unusableRecords > 0 ? { unusableRecords } : {}) };
  }

  /** The request's resume state, which must be one of its direction: a state of the other is an expired cursor. */
  private positionOf(request: ListEventsRequest): Position {
    const state = this.readResume(request.resume);
    if (request.direction === 'DESC' && (state === null || isDescResume(state))) return { direction: 'DESC', resume: state };
    if (request.direction === 'ASC' && (state === null || !isDescResume(state))) return { direction: 'ASC', resume: state };
    throw new UpstreamError(ErrorCode.UpstreamCursorExpired, this.sourceId, { logDetail: { reason: 'resume state of another direction' } });
  }

  private async newestFirst(fetch: FetchWindow, query: SourceQuery, resume: DescResume | null, limit: number): Promise<CoveredBatch> {
    const batch = await pageDesc(fetch, this.sourceId, query, resume, limit);
    return { batch, covered: descCoverage(query, resume, batch.next) };
  }

  private async oldestFirst(fetch: FetchWindow, query: SourceQuery, resume: AscResume | null, limit: number): Promise<CoveredBatch> {
    const batch = await pageAsc(fetch, this.sourceId, query, resume, limit);
    return { batch, covered: ascCoverage(query, resume, batch.next) };
  }

  /** By id alone: the time of `ref` is not needed. */
  getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    return this.findEvent(ref.sourceEventId, signal);
  }

  /** `?identifier=` is the only lookup by id Port has; an empty list (or a 404) means no such log. */
  async findEvent(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null> {
    const counter: RequestCounter = { requests: 0 };
    const response = await this.send({ method: 'GET', path: AUDIT_PATH, query: { identifier: sourceEventId }, signal, counter, acceptStatuses: [404] });
    if (response.status === 404) return null;
    return (await this.pageOf(response, null)).events.find((event) => event.sourceEventId === sourceEventId) ?? null;
  }

  /** One window read. With `identifier`, a 404 is Port's "no such log", the same as an empty list. */
  private async fetchAudits(query: Record<string, QueryValue>, signal: AbortSignal, counter: RequestCounter, unplaced: UnplacedRecord[]): Promise<WindowRead> {
    const acceptStatuses = query['identifier'] !== undefined ? [404] : [];
    const response = await this.send({ method: 'GET', path: AUDIT_PATH, query, signal, counter, acceptStatuses });
    if (response.status === 404) return { events: [], received: 0 };
    return this.pageOf(response, unplaced);
  }

  /**
   * The events of one response under the record policy (`eventsOf`), and how many records it
   * held: the paging's "page is full" test counts every record, placeable or not. Records that
   * cannot be placed are noted in `unplaced` instead of the batch's tally, for the batch to count
   * once (see `unplaced.ts`).
   */
  private async pageOf(response: UpstreamResponse, unplaced: UnplacedRecord[] | null): Promise<WindowRead> {
    const body = response.body;
    if (!isJsonObject(body) || body['ok'] === false) throw this.malformed('body is not {ok, audits}');
    const audits = body['audits'];
    const { parse, normalize } = notingUnplaced(unplaced);
    const events = await this.eventsOf(audits, parse, normalize, undefined);
    return { events, received: Array.isArray(audits) ? audits.length : 0 };
  }
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
