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
} from '../../sources/data-source';
import { onlyValue } from '../../sources/data-source';
import type { Logger } from '../../logger';
import { normalizePage, unusableOf } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { PortTokenProvider } from './auth';
import { normalizePortAuditLog, parsePortAuditLog } from './normalize';
import { pageAsc, pageDesc, parseAscResume, parseDescResume, sortBatch, type FetchWindow } from './paging';
import { PORT_RESOURCE_TYPES, type PortResourceType } from './wire-types';

/** Port's config keys besides the common ones: an API client's credentials (Port → Credentials). */
export interface PortCredentials extends Record<string, unknown> {
  clientId: string;
  clientSecret: string;
}

const AUDIT_PATH = '/v1/audit-log';
/** Largest batch the gateway may ask for; Port takes up to 10,000, but records carry entity snapshots. */
const MAX_PAGE = 1_000;

const VERB_TO_ACTION: Record<string, string> = { created: 'CREATE', updated: 'UPDATE', deleted: 'DELETE' };
/** Query parameters that select one resource by id, by resource type. */
const ID_PARAMS: Partial<Record<PortResourceType, string>> = { entity: 'entity', blueprint: 'blueprint', run: 'run_id', webhook: 'webhookId' };

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
 * The filters Port can apply exactly, or as a superset the gateway narrows again; anything else
 * is left to the gateway. `<resource>.<verb>` actions become `resources` plus, when all share one
 * verb, `action` (Port takes a single action); target types become `resources`; one target id
 * of one resource type becomes that type's id parameter; `failed` becomes `status` and one
 * event id `identifier` (see {@link recordParams}).
 */
export function portPushDown(query: SourceQuery): PortPushDown {
  let resources: Set<PortResourceType> | null = null;
  let action: string | null = null;
  if (query.actions) {
    const parsed = query.actions.map((name) => /^([a-z]+)\.(created|updated|deleted)$/.exec(name));
    if (parsed.every((match) => match !== null && isResourceType(match[1]!))) {
      resources = new Set(parsed.map((match) => match![1] as PortResourceType));
      const verbs = new Set(parsed.map((match) => match![2]!));
      if (verbs.size === 1) action = VERB_TO_ACTION[[...verbs][0]!] ?? null;
    }
  }
  if (query.targetTypes && query.targetTypes.every(isResourceType)) {
    const types = new Set(query.targetTypes as readonly PortResourceType[]);
    resources = resources ? new Set([...resources].filter((type) => types.has(type))) : types;
  }
  if (resources && resources.size === 0) return { params: {}, matchesNothing: true };

  const params: Record<string, QueryValue> = {};
  if (resources) params['resources'] = [...resources].sort();
  if (action) params['action'] = action;
  const only = resources?.size === 1 ? [...resources][0]! : null;
  const idParam = only ? ID_PARAMS[only] : undefined;
  if (idParam && query.targetIds?.length === 1) params[idParam] = query.targetIds[0]!;
  return { params: { ...params, ...recordParams(query) }, matchesNothing: false };
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
    // Also pushed down in narrow cases: one target id of one target type; one event id.
    nativeFilters: ['window', 'actions', 'targetTypes', 'failed', 'sourceEventIds'],
    recordedFields: ['failed'],
    getById: true,
    countsTotal: false,
    // "Audit log kept 1 year by default" (vendor notes).
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
    const fetch: FetchWindow = (window) =>
      this.fetchAudits({ ...pushDown.params, from: isoOrNull(window.from), to: isoOrNull(window.to), limit: window.limit }, signal, counter);
    const batch =
      direction === 'DESC'
        ? await pageDesc(fetch, this.sourceId, query, descResume, limit)
        : await pageAsc(fetch, this.sourceId, query, ascResume, limit);
    return { events: sortBatch(batch.events, direction), next: batch.next, upstreamRequests: counter.requests, ...unusableOf(counter) };
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
    return this.eventsOf(response, counter).find((event) => event.sourceEventId === sourceEventId) ?? null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async fetchAudits(query: Record<string, QueryValue>, signal: AbortSignal, counter: RequestCounter): Promise<AuditEventModel[]> {
    const response = await this.authorized((headers) => this.client.request({ method: 'GET', path: AUDIT_PATH, query, headers, signal, counter }), signal, counter);
    return this.eventsOf(response, counter);
  }

  private eventsOf(response: UpstreamResponse, counter: RequestCounter): AuditEventModel[] {
    const body = response.body;
    if (!isJsonObject(body) || body['ok'] === false) {
      throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.sourceId, { logDetail: { reason: 'body is not {ok, audits}' } });
    }
    return normalizePage(this.sourceId, body['audits'], parsePortAuditLog, normalizePortAuditLog, { logger: this.logger, counter }).events;
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
