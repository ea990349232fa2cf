import type { z } from 'zod';
import { ErrorCode, UpstreamError } from '../errors';
import { createUpstreamClient, type RequestCounter, type UpstreamClient, type UpstreamRequest, type UpstreamResponse } from '../http/upstream-client';
import type { Logger } from '../logger';
import type { AuditEventModel, Vendor } from '../models/audit-event';
import type { AuditDataSource, EventRef, ListEventsRequest, ListEventsResult, SourceCapabilities, SourceResume } from './data-source';
import { normalizePage, normalizeRecord, type NormalizePageOptions } from './normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from './vendor-module';

/** What a vendor tells {@link HttpDataSource} once, at construction. */
export interface HttpDataSourceOptions {
  /** The display name when the config gives none, e.g. `Nirvana Labs (nirvana-main)`. */
  defaultName: string;
  /** The credential values of the config: the client redacts them from every log line and error. */
  secrets: string[];
  /** The origin requests go to, when the vendor derives it from the configured `baseUrl`. */
  baseUrl?: string;
}

/**
 * The shared shape of every vendor datasource that speaks HTTP, after Apollo's datasource-rest:
 * the base owns the id, the name, the upstream client (pool, deadlines, retries, redaction) and
 * closing it; a vendor writes only its protocol, through small hooks:
 * - {@link authorize}: the headers that authorize a request (a static key, or a token it exchanges);
 * - {@link send}: one request through `authorize`, which a vendor may widen (a fresh token on 401);
 * - {@link resumeSchema}: the shape of its resume states, checked by {@link readResume};
 * - {@link eventsOf} / {@link eventOf}: a body's records under the record policy;
 * - {@link malformed}: the error for a body it cannot read.
 * Wire types, normalising, paging arithmetic and push-down stay in the vendor's folder.
 */
export abstract class HttpDataSource<Resume> implements AuditDataSource {
  abstract readonly vendor: Vendor;
  abstract capabilities: SourceCapabilities;
  readonly sourceId: string;
  readonly displayName: string;
  protected readonly client: UpstreamClient;
  protected readonly logger: Logger;
  /** The zod schema of this datasource's resume states, as it writes them into cursors. */
  protected abstract readonly resumeSchema: z.ZodType<Resume>;

  constructor(config: BaseSourceConfig, deps: DataSourceDeps, options: HttpDataSourceOptions) {
    this.sourceId = config.id;
    this.displayName = config.name ?? options.defaultName;
    this.logger = deps.logger;
    this.client = createUpstreamClient({ ...config, baseUrl: options.baseUrl ?? config.baseUrl }, deps, options.secrets);
  }

  abstract listEvents(request: ListEventsRequest): Promise<ListEventsResult>;
  abstract getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null>;

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Hook: the headers that authorize a request; `counter` counts any exchange it makes. */
  protected abstract authorize(signal: AbortSignal, counter: RequestCounter | undefined): Promise<Record<string, string>> | Record<string, string>;

  /** One request, authorized. A vendor whose credentials can go stale mid-flight widens this. */
  protected async send(request: Omit<UpstreamRequest, 'headers'> & { headers?: Record<string, string> }): Promise<UpstreamResponse> {
    const authorization = await this.authorize(request.signal, request.counter);
    return this.client.request({ ...request, headers: { ...request.headers, ...authorization } });
  }

  /**
   * A resume state this datasource wrote, checked against {@link resumeSchema}; null for the start
   * of a window. Anything else (an older format, a state of another datasource) is refused as an
   * expired cursor: the client starts the traversal again knowingly, never silently from the top.
   */
  protected readResume(value: SourceResume | null): Resume | null {
    if (value === null) return null;
    const parsed = this.resumeSchema.safeParse(value);
    if (!parsed.success) throw new UpstreamError(ErrorCode.UpstreamCursorExpired, this.sourceId, { logDetail: { reason: 'unreadable resume state' } });
    return parsed.data;
  }

  /** The events of a body's record list under the record policy (see `normalizePage`). */
  protected async eventsOf<Raw>(
    items: unknown,
    parse: (value: unknown) => Raw,
    normalize: (raw: Raw, sourceId: string) => AuditEventModel,
    counter: RequestCounter | undefined,
    options: Omit<NormalizePageOptions, 'logger' | 'counter'> = {},
  ): Promise<AuditEventModel[]> {
    return (await normalizePage(this.sourceId, items, parse, normalize, { ...options, logger: counter?.requestLogger ?? this.logger, ...(counter ? { counter } : {}) })).events;
  }

  /** One record asked for by id: one that cannot be placed is an upstream fault, never a silent null. */
  protected eventOf<Raw>(item: unknown, parse: (value: unknown) => Raw, normalize: (raw: Raw, sourceId: string) => AuditEventModel): AuditEventModel {
    return normalizeRecord(this.sourceId, item, parse, normalize);
  }

  /** The error for a body this datasource cannot read; `reason` goes to the log only. */
  protected malformed(reason: string, detail: Record<string, unknown> = {}): UpstreamError {
    return new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.sourceId, { logDetail: { reason, ...detail } });
  }
}
