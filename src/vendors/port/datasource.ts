import { ErrorCode, UpstreamError } from '../../errors';
import { createUpstreamClient, type UpstreamClient, type QueryValue, type RequestCounter, type UpstreamResponse } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import type {
  AuditDataSource,
  EventRef,
  ListEventsRequest,
  ListEventsResult,
  SourceCapabilities,
  SourceQuery,
  SourceResume,
} from '../../sources/data-source';
import { onlyValue } from '../../sources/data-source';
import type { Logger } from '../../logger';
import { normalizePage } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { PortTokenProvider } from './auth';
import {
  pageAsc,
  pageDesc,
  parseAscResume,
  parseDescResume,
  sortBatch,
  type AscResume,
  type DescResume,
  type FetchWindow,
  type PagedBatch,
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
  const fromActions = query.actions ? actionParams(query.actions) : null;
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

/**
 * Port audit logs (`GET /v1/audit-log`) behind a client-credentials token. Port has no paging,
 * so batches are time windows (see `paging.ts`); both orders work, newest first is cheaper.
 */
export class PortDataSource implements AuditDataSource {
  readonly vendor = 'port' as const;
  readonly sourceId: string;
  readonly displayName: string;
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
  private readonly client: UpstreamClient;
  private readonly logger: Logger;
  private readonly tokens: PortTokenProvider;

  constructor(config: BaseSourceConfig & PortCredentials, deps: DataSourceDeps) {
    this.sourceId = config.id;
    this.displayName = config.name ?? `Port (${config.id})`;
    // Mutable on purpose: the token provider adds each access token, so logs scrub it too.
    const secrets = [config.clientId, config.clientSecret];
    this.client = createUpstreamClient(config, deps, secrets);
    this.logger = deps.logger;
    this.tokens = new PortTokenProvider(this.client, { clientId: config.clientId, clientSecret: config.clientSecret }, secrets, config.timeouts.requestMs);
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const { direction, query, signal } = request;
    const counter: RequestCounter = { requests: 0 };
    const descResume = request.resume !== null && direction === 'DESC' ? parseDescResume(request.resume) : null;
    const ascResume = request.resume !== null && direction === 'ASC' ? parseAscResume(request.resume) : null;
    if (request.resume !== null && !descResume && !ascResume) {
      throw new UpstreamError(ErrorCode.UpstreamCursorExpired, this.sourceId, { logDetail: { reason: 'unreadable resume state' } });
    }
    const pushDown = portPushDown(query);
    if (pushDown.matchesNothing) return { events: [], next: null, upstreamRequests: 0 };

    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(request.limit)));
    const unplaced: UnplacedRecord[] = [];
    const fetch: FetchWindow = (window) =>
      this.fetchAudits({ ...pushDown.params, from: isoOrNull(window.from), to: isoOrNull(window.to), limit: window.limit }, signal, counter, unplaced);
    const { batch, covered } = direction === 'DESC' ? await this.newestFirst(fetch, query, descResume, limit) : await this.oldestFirst(fetch, query, ascResume, limit);
    const unusableRecords = countUnplaced(unplaced, covered);
    return { events: sortBatch(batch.events, direction), next: batch.next, upstreamRequests: counter.requests, ...(unusableRecords > 0 ? { unusableRecords } : {}) };
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
    const response = await this.authorized(
      (headers) => this.client.request({ method: 'GET', path: AUDIT_PATH, query: { identifier: sourceEventId }, headers, signal, counter, acceptStatuses: [404] }),
      signal,
      counter,
    );
    if (response.status === 404) return null;
    return this.pageOf(response, null).events.find((event) => event.sourceEventId === sourceEventId) ?? null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** One window read. With `identifier`, a 404 is Port's "no such log", the same as an empty list. */
  private async fetchAudits(query: Record<string, QueryValue>, signal: AbortSignal, counter: RequestCounter, unplaced: UnplacedRecord[]): Promise<WindowRead> {
    const acceptStatuses = query['identifier'] !== undefined ? [404] : [];
    const response = await this.authorized((headers) => this.client.request({ method: 'GET', path: AUDIT_PATH, query, headers, signal, counter, acceptStatuses }), signal, counter);
    if (response.status === 404) return { events: [], received: 0 };
    return this.pageOf(response, unplaced);
  }

  /**
   * The events of one response under the record policy (`normalizePage`), and how many records it
   * held: the paging's "page is full" test counts every record, placeable or not. Records that
   * cannot be placed are also noted in `unplaced`, for the batch to count once (see `unplaced.ts`).
   */
  private pageOf(response: UpstreamResponse, unplaced: UnplacedRecord[] | null): WindowRead {
    const body = response.body;
    if (!isJsonObject(body) || body['ok'] === false) {
      throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.sourceId, { logDetail: { reason: 'body is not {ok, audits}' } });
    }
    const audits = body['audits'];
    const { parse, normalize } = notingUnplaced(unplaced);
    const { events } = normalizePage(this.sourceId, audits, parse, normalize, { logger: this.logger });
    return { events, received: Array.isArray(audits) ? audits.length : 0 };
  }

  /** Sends with the cached token; on a 401 exchanges the credentials again and retries once (Port's advice on expiry). */
  private async authorized(
    send: (headers: Record<string, string>) => Promise<UpstreamResponse>,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<UpstreamResponse> {
    const token = await this.tokens.token(signal, counter);
    try {
      return await send({ authorization: `Bearer ${token}` });
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.httpStatus !== 401) throw error;
      this.tokens.invalidate(token);
      const fresh = await this.tokens.token(signal, counter);
      return send({ authorization: `Bearer ${fresh}` });
    }
  }
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
