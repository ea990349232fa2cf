import { ErrorCode, UpstreamError } from '../../errors';
import { createUpstreamClient, type UpstreamClient, type RequestCounter } from '../../http/upstream-client';
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
import { normalizePage } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from './normalize';

/** Nirvana's config keys besides the common ones. */
export interface NirvanaCredentials extends Record<string, unknown> {
  apiKey: string;
}

/** The page-size bounds of `GET /v1/audit_logs` (docs: minimum 10, maximum 100). */
const MIN_LIMIT = 10;
const MAX_LIMIT = 100;

/**
 * Resume states, as JSON in gateway cursors:
 * - newest first: `{c}` = the upstream `next_cursor`;
 * - oldest first: `{w}` while walking to the oldest page through `next_cursor` (the seed-era API
 *   has no `sort`), then `{p}` = the upstream `previous_cursor`, which walks back towards newer
 *   pages.
 */
type NirvanaResume = { c: string } | { w: string } | { p: string };

/**
 * Nirvana Labs audit logs (`GET /v1/audit_logs`, `GET /v1/audit_logs/{id}`), API key as Bearer.
 * Uses only the seed-era parameters `cursor` and `limit`; every filter is applied by the gateway.
 */
export class NirvanaDataSource implements AuditDataSource {
  readonly vendor = 'nirvana' as const;
  readonly sourceId: string;
  readonly displayName: string;
  readonly capabilities: SourceCapabilities = {
    nativeOrder: 'DESC',
    bothOrders: false,
    pagingKind: 'CURSOR',
    minPageSize: MIN_LIMIT,
    maxPageSize: MAX_LIMIT,
    nativeFilters: [],
    getById: true,
    countsTotal: true,
  };
  private readonly client: UpstreamClient;
  private readonly headers: Record<string, string>;

  constructor(config: BaseSourceConfig & NirvanaCredentials, deps: DataSourceDeps) {
    this.sourceId = config.id;
    this.displayName = config.name ?? `Nirvana Labs (${config.id})`;
    this.headers = { authorization: `Bearer ${config.apiKey}` };
    this.client = createUpstreamClient(config, deps, [config.apiKey]);
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const counter: RequestCounter = { requests: 0 };
    const resume = parseResume(request.resume, this.sourceId);
    const limit = clamp(request.limit);

    if (request.direction === 'DESC') {
      const page = await this.fetchPage(resume && 'c' in resume ? resume.c : null, limit, request.signal, counter);
      return { events: page.events, next: page.events.length > 0 && page.next ? { c: page.next } : null, upstreamRequests: counter.requests };
    }

    if (resume && 'p' in resume) {
      const page = await this.fetchPage(resume.p, limit, request.signal, counter);
      return { events: page.events, next: page.events.length > 0 && page.previous ? { p: page.previous } : null, upstreamRequests: counter.requests };
    }
    // Oldest first without `sort`: walk to the oldest page in steps of the largest page, then
    // hand out that page and follow `previous_cursor` back up. One step per call keeps each
    // call one request, so the gateway's per-page request budget bounds the walk.
    const page = await this.fetchPage(resume && 'w' in resume ? resume.w : null, MAX_LIMIT, request.signal, counter);
    if (page.events.length > 0 && page.next) return { events: [], next: { w: page.next }, upstreamRequests: counter.requests };
    return { events: page.events, next: page.events.length > 0 && page.previous ? { p: page.previous } : null, upstreamRequests: counter.requests };
  }

  async getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    const response = await this.client.request({
      method: 'GET',
      path: `/v1/audit_logs/${encodeURIComponent(ref.sourceEventId)}`,
      headers: this.headers,
      signal,
      acceptStatuses: [404],
    });
    if (response.status === 404) return null;
    return normalizePage(this.sourceId, [response.body], parseNirvanaAuditLog, normalizeNirvanaAuditLog)[0] ?? null;
  }

  /** `pagination.total_count`, which counts the whole log: exact only for a query without filters. */
  async countEvents(query: SourceQuery, signal: AbortSignal): Promise<number | null> {
    const unfiltered = Object.values(query).every((value) => value === null);
    if (!unfiltered) return null;
    const response = await this.client.request({ method: 'GET', path: '/v1/audit_logs', query: { limit: MIN_LIMIT }, headers: this.headers, signal });
    const pagination = isJsonObject(response.body) ? response.body['pagination'] : undefined;
    const total = isJsonObject(pagination) ? pagination['total_count'] : undefined;
    return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async fetchPage(
    cursor: string | null,
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<{ events: AuditEventModel[]; next: string | null; previous: string | null }> {
    const response = await this.client.request({
      method: 'GET',
      path: '/v1/audit_logs',
      query: { limit, cursor },
      headers: this.headers,
      signal,
      counter,
    });
    const body = response.body;
    if (!isJsonObject(body)) {
      throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.sourceId, { logDetail: { reason: 'body is not an object' } });
    }
    const events = normalizePage(this.sourceId, body['items'], parseNirvanaAuditLog, normalizeNirvanaAuditLog);
    const pagination = isJsonObject(body['pagination']) ? body['pagination'] : {};
    return { events, next: cursorOrNull(pagination['next_cursor']), previous: cursorOrNull(pagination['previous_cursor']) };
  }
}

function cursorOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function clamp(limit: number): number {
  return Math.max(MIN_LIMIT, Math.min(MAX_LIMIT, Math.floor(limit)));
}

function parseResume(value: unknown, sourceId: string): NirvanaResume | null {
  if (value === null) return null;
  if (isJsonObject(value)) {
    for (const key of ['c', 'w', 'p'] as const) {
      const cursor = value[key];
      if (typeof cursor === 'string' && Object.keys(value).length === 1) return { [key]: cursor } as NirvanaResume;
    }
  }
  throw new UpstreamError(ErrorCode.UpstreamCursorExpired, sourceId, { logDetail: { reason: 'unreadable resume state' } });
}
