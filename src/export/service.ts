import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { selectEvents, type EventFilterInput } from '../connection/filter';
import { snapshotOf } from '../connection/plan';
import { badUserInput, ErrorCode, GatewayError } from '../errors';
import type { Logger } from '../logger';
import type { JsonObject, JsonValue } from '../models/json';
import type { Direction } from '../sources/data-source';
import type { SourceRegistry } from '../sources/registry';
import { newExportJobId } from './export-id';
import type { ExportFormat, ExportJob, ExportSourceRecord } from './job';
import { ExportJobStore } from './job-store';
import { runExport, type ExportRunOutcome } from './runner';
import type { ExportSettings } from './settings';
import { ed25519PrivateKey, keyIdOf, publicKeyPem } from './signature';
import { gatewayVersion } from './version';

/** Options of {@link ExportService.open}. */
export interface ExportServiceOptions {
  settings: ExportSettings;
  /** As `server.settleWindowMs`: an export's snapshot is taken as a traversal's first page takes it. */
  settleWindowMs: number;
  logger: Logger;
  /** Wait before re-reading a failed source, by attempt; tests shorten it. */
  retryDelayMs?: (attempt: number) => number;
  /** How often expired exports are looked for; default a tenth of the TTL, between 250 ms and a minute. */
  sweepIntervalMs?: number;
}

/** What a caller asks to export. */
export interface StartExportRequest {
  /** The principal starting it: the only one that will see it. */
  ownerId: string;
  /** The caller's registry, holding only the sources it may read. */
  sources: SourceRegistry;
  filter: EventFilterInput | null | undefined;
  order: Direction;
  formats: readonly ExportFormat[] | null | undefined;
}

/** A finished archive a caller may download. */
export interface ExportDownload {
  path: string;
  bytes: number;
  sha256: string;
  fileName: string;
}

/** Why an export ended when the gateway stopped under it: its error code, and the abort reason the runner sees. */
const GATEWAY_STOPPED = 'GATEWAY_STOPPED';

/** The formats, in the order the archive holds them. */
const FORMAT_ORDER: readonly ExportFormat[] = ['JSONL', 'CSV'];

/**
 * Evidence exports: starts them in the background, keeps their state (in memory and as JSON in
 * `server.exports.dir`), answers only their owner, cancels them, and deletes them when they
 * expire. A job found RUNNING on disk at start-up did not survive a restart: it becomes FAILED.
 */
export class ExportService {
  private readonly jobs = new Map<string, ExportJob>();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Jobs between their admission and their start (their record being written): they count against the limit. */
  private starting = 0;
  private readonly gateway = { name: 'audit-gateway', version: gatewayVersion() };

  private constructor(
    private readonly options: ExportServiceOptions,
    private readonly store: ExportJobStore,
    private readonly signingKey: KeyObject,
  ) {}

  /** Reads the signing key, prepares the directory and recovers the jobs in it. */
  static async open(options: ExportServiceOptions): Promise<ExportService> {
    const signingKey = ed25519PrivateKey(options.settings.signingKeyPem);
    const store = new ExportJobStore(path.resolve(options.settings.dir));
    await store.init();
    const service = new ExportService(options, store, signingKey);
    await service.recover();
    const ttlMs = options.settings.ttlSeconds * 1000;
    service.sweepTimer = setInterval(() => void service.sweep(), options.sweepIntervalMs ?? Math.min(60_000, Math.max(250, ttlMs / 10)));
    service.sweepTimer.unref();
    options.logger.info({ dir: store.dir, keyId: service.publicKey.keyId }, 'evidence exports enabled');
    return service;
  }

  /** The key manifests are verified with. */
  get publicKey(): { algorithm: 'Ed25519'; pem: string; keyId: string } {
    return { algorithm: 'Ed25519', pem: publicKeyPem(this.signingKey), keyId: keyIdOf(this.signingKey) };
  }

  /**
   * Validates the request as `auditEvents` validates its arguments (the same filter check, so the
   * same BAD_USER_INPUT), records the job and starts it; resolves once the job is on disk.
   */
  async start(request: StartExportRequest): Promise<ExportJob> {
    const selection = selectEvents(request.filter, request.sources.filterable, request.order);
    const formats = FORMAT_ORDER.filter((format) => (request.formats ?? FORMAT_ORDER).includes(format));
    if (formats.length === 0) throw badUserInput('input.formats: give at least one format (JSONL, CSV)', 'ARGUMENT_OUT_OF_RANGE', 'input.formats');
    if (this.stopping) throw new GatewayError(ErrorCode.ExportLimitReached, 'the gateway is shutting down; start the export again later');
    const { maxConcurrent } = this.options.settings;
    if (this.running.size + this.starting >= maxConcurrent) {
      throw new GatewayError(ErrorCode.ExportLimitReached, `${maxConcurrent} export(s) are running, as many as server.exports.maxConcurrent allows; start this one when one has ended`);
    }

    const nowMs = Date.now();
    const vendorOf = (sourceId: string) => request.sources.get(sourceId)?.config.vendor ?? 'unknown';
    const source = (sourceId: string, status: ExportSourceRecord['status'], notApplicableFields: string[] = []): ExportSourceRecord => ({
      sourceId,
      vendor: vendorOf(sourceId),
      status,
      eventsWritten: 0,
      errorCode: null,
      retainedFrom: null,
      notApplicableFields,
      unusableRecords: 0,
    });
    const job: ExportJob = {
      version: 1,
      id: newExportJobId(),
      ownerId: request.ownerId,
      status: 'RUNNING',
      complete: null,
      filter: filterJson(request.filter),
      order: request.order,
      formats,
      createdAt: new Date(nowMs).toISOString(),
      // The snapshot rule of a traversal's first page: nothing after it, whatever arrives meanwhile.
      asOf: new Date(snapshotOf(nowMs, this.options.settleWindowMs)).toISOString(),
      completedAt: null,
      expiresAt: null,
      progress: { eventsWritten: 0, sourcesDone: 0, sourcesTotal: selection.sourceIds.length },
      sources: [
        ...selection.sourceIds.map((sourceId) => source(sourceId, 'READING')),
        ...selection.skippedSourceIds.map((sourceId) => source(sourceId, 'SKIPPED')),
        ...selection.notApplicable.map(({ sourceId, fields }) => source(sourceId, 'NOT_APPLICABLE', fields)),
      ].sort((a, b) => (a.sourceId < b.sourceId ? -1 : 1)),
      files: [],
      archive: null,
      manifestSha256: null,
      chainHash: null,
      error: null,
    };
    this.starting += 1;
    try {
      await this.store.save(job);
    } finally {
      this.starting -= 1;
    }
    this.jobs.set(job.id, job);

    const controller = new AbortController();
    const done = runExport({
      job,
      selection,
      sources: request.sources,
      settings: this.options.settings,
      signingKey: this.signingKey,
      gateway: this.gateway,
      store: this.store,
      signal: controller.signal,
      logger: this.options.logger,
      ...(this.options.retryDelayMs ? { retryDelayMs: this.options.retryDelayMs } : {}),
    })
      .then((outcome) => this.finish(job, outcome))
      .catch((error: unknown) => this.options.logger.error({ err: error, exportId: job.id }, 'export bookkeeping failed'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, { controller, done });
    this.options.logger.info({ exportId: job.id, owner: job.ownerId, sources: selection.sourceIds, formats }, 'export started');
    return job;
  }

  /** The job, if `ownerId` started it and it has not expired; anyone else gets null, as for an unknown id. */
  get(jobId: string, ownerId: string): ExportJob | null {
    const job = this.jobs.get(jobId);
    if (!job || job.ownerId !== ownerId || isExpired(job, Date.now())) return null;
    return job;
  }

  /** Cancels a running job (its partial files are deleted); an ended one is answered as it is. */
  async cancel(jobId: string, ownerId: string): Promise<ExportJob | null> {
    const job = this.get(jobId, ownerId);
    if (!job) return null;
    const running = this.running.get(jobId);
    if (running) {
      running.controller.abort();
      await running.done;
    }
    return job;
  }

  /** The archive of a COMPLETED job of `ownerId`, or null. */
  download(jobId: string, ownerId: string): ExportDownload | null {
    const job = this.get(jobId, ownerId);
    if (!job || job.status !== 'COMPLETED' || !job.archive) return null;
    return { path: this.store.archivePath(job.id), bytes: job.archive.bytes, sha256: job.archive.sha256, fileName: job.archive.name };
  }

  /** Deletes the files and records of expired jobs. */
  async sweep(): Promise<void> {
    const nowMs = Date.now();
    for (const job of [...this.jobs.values()]) {
      if (!isExpired(job, nowMs)) continue;
      this.jobs.delete(job.id);
      try {
        await this.store.remove(job.id);
        this.options.logger.info({ exportId: job.id }, 'export expired and deleted');
      } catch (error) {
        this.options.logger.warn({ err: error, exportId: job.id }, 'could not delete an expired export');
      }
    }
  }

  /** Stops the sweep and the running jobs, which end FAILED (`GATEWAY_STOPPED`) with their part files deleted. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const running = [...this.running.values()];
    for (const { controller } of running) controller.abort(GATEWAY_STOPPED);
    await Promise.all(running.map(({ done }) => done));
  }

  private async finish(job: ExportJob, outcome: ExportRunOutcome): Promise<void> {
    const nowMs = Date.now();
    job.completedAt ??= new Date(nowMs).toISOString();
    job.expiresAt = new Date(Date.parse(job.completedAt) + this.options.settings.ttlSeconds * 1000).toISOString();
    if (outcome.kind === 'completed') job.status = 'COMPLETED';
    else if (outcome.kind === 'failed') {
      job.status = 'FAILED';
      job.error = outcome.error;
    } else if (this.stopping) {
      job.status = 'FAILED';
      job.error = { code: GATEWAY_STOPPED, message: 'the gateway stopped before the export finished; start it again', sourceId: null };
    } else job.status = 'CANCELLED';
    await this.store.save(job);
    this.options.logger.info({ exportId: job.id, status: job.status, events: job.progress.eventsWritten, complete: job.complete, error: job.error?.code }, 'export ended');
  }

  /** Jobs on disk from before this start: a RUNNING one was cut short by a restart. */
  private async recover(): Promise<void> {
    const { jobs, unreadable } = await this.store.loadAll();
    if (unreadable.length > 0) this.options.logger.warn({ files: unreadable }, 'export files that are not a readable job were left alone');
    const nowMs = Date.now();
    for (const job of jobs) {
      if (job.status === 'RUNNING') {
        job.status = 'FAILED';
        job.error = { code: 'GATEWAY_RESTARTED', message: 'the gateway restarted before the export finished; start it again', sourceId: null };
        job.completedAt = new Date(nowMs).toISOString();
        job.expiresAt = new Date(nowMs + this.options.settings.ttlSeconds * 1000).toISOString();
        for (const record of job.sources) {
          if (record.status !== 'READING') continue;
          record.status = 'INCOMPLETE';
          record.errorCode = 'GATEWAY_RESTARTED';
        }
        await this.store.save(job);
        this.options.logger.warn({ exportId: job.id }, 'export was running when the gateway stopped: marked FAILED');
      }
      this.jobs.set(job.id, job);
    }
    await this.store.removeLeftovers(new Set(jobs.filter((job) => job.status === 'COMPLETED').map((job) => job.id)));
    await this.sweep();
  }
}

function isExpired(job: ExportJob, nowMs: number): boolean {
  return job.expiresAt !== null && Date.parse(job.expiresAt) <= nowMs;
}

/** The filter as given, as JSON (instants in ISO 8601), without empty members: for the job and the manifest. */
function filterJson(filter: EventFilterInput | null | undefined): JsonObject {
  const json: JsonObject = {};
  for (const [name, value] of Object.entries(filter ?? {}) as Array<[string, unknown]>) {
    if (value === null || value === undefined) continue;
    json[name] = value instanceof Date ? value.toISOString() : Array.isArray(value) ? ([...value] as JsonValue[]) : (value as JsonValue);
  }
  return json;
}
