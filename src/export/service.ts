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
import type { SharedExportJobs } from './shared-jobs';
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
  /**
   * Job records in the Redis replicas share (`server.cache.redisUrl`), instead of JSON files in the
   * directory; the directory, which then holds only archives, must be shared storage.
   */
  shared?: SharedExportJobs | null;
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
 *
 * With `shared`, the records live in Redis instead, where every replica reads them, and the
 * replica running a job holds its lease there (renewed by a heartbeat that also writes its
 * progress and picks up cancellations asked elsewhere). A RUNNING job becomes FAILED only once
 * its lease has lapsed, whichever replica sees it first. While Redis is unreachable a replica
 * answers from what it knows itself, and its heartbeat writes its jobs back once Redis returns.
 */
export class ExportService {
  private readonly jobs = new Map<string, ExportJob>();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
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
    if (options.shared) {
      service.heartbeatTimer = setInterval(() => void service.heartbeat(), Math.max(50, Math.floor(options.shared.leaseMs / 3)));
      service.heartbeatTimer.unref();
    }
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
      // The lease first: a RUNNING record without one would look abandoned to another replica.
      if (this.options.shared) await this.sharedWrite(job.id, async (shared) => void (await shared.takeLease(job.id)));
      await this.persist(job);
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
  async get(jobId: string, ownerId: string): Promise<ExportJob | null> {
    const job = await this.lookup(jobId);
    if (!job || job.ownerId !== ownerId || isExpired(job, Date.now())) return null;
    return job;
  }

  /** A job this process runs (its live progress), else the shared record, else what this process knows. */
  private async lookup(jobId: string): Promise<ExportJob | null> {
    const local = this.jobs.get(jobId) ?? null;
    const { shared } = this.options;
    if (!shared || this.running.has(jobId)) return local;
    try {
      return (await shared.load(jobId)) ?? local;
    } catch {
      return local;
    }
  }

  /** How many jobs this gateway knows in each status, expired ones left out (the metrics' gauge). */
  statusCounts(): Record<ExportJob['status'], number> {
    const counts: Record<ExportJob['status'], number> = { RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 };
    const nowMs = Date.now();
    for (const job of this.jobs.values()) if (!isExpired(job, nowMs)) counts[job.status] += 1;
    return counts;
  }

  /**
   * Cancels a running job (its partial files are deleted); an ended one is answered as it is. A job
   * another replica runs is asked to stop through the shared store; the answer waits for it to end
   * there (its next heartbeat), for at most two leases.
   */
  async cancel(jobId: string, ownerId: string): Promise<ExportJob | null> {
    const job = await this.get(jobId, ownerId);
    if (!job) return null;
    const running = this.running.get(jobId);
    if (running) {
      running.controller.abort();
      await running.done;
      return job;
    }
    const { shared } = this.options;
    if (!shared || job.status !== 'RUNNING') return job;
    try {
      await shared.requestCancel(jobId);
      const giveUpAt = Date.now() + 2 * shared.leaseMs;
      while (Date.now() < giveUpAt) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const latest = await shared.load(jobId);
        if (!latest || latest.status !== 'RUNNING') return latest ?? job;
      }
      return (await shared.load(jobId)) ?? job;
    } catch {
      // Redis went away meanwhile: the job is answered as last seen.
      return job;
    }
  }

  /** The archive of a COMPLETED job of `ownerId`, or null. */
  async download(jobId: string, ownerId: string): Promise<ExportDownload | null> {
    const job = await this.get(jobId, ownerId);
    if (!job || job.status !== 'COMPLETED' || !job.archive) return null;
    return { path: this.store.archivePath(job.id), bytes: job.archive.bytes, sha256: job.archive.sha256, fileName: job.archive.name };
  }

  /** Deletes the files and records of expired jobs (with `shared`, also fails abandoned ones: see {@link sweepShared}). */
  async sweep(): Promise<void> {
    const nowMs = Date.now();
    if (this.options.shared) await this.sweepShared(this.options.shared, nowMs);
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
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const running = [...this.running.values()];
    for (const { controller } of running) controller.abort(GATEWAY_STOPPED);
    await Promise.all(running.map(({ done }) => done));
  }

  /**
   * Every job in the shared store: expired ones are deleted (record and archive), whichever
   * replica ran them; a RUNNING one whose lease lapsed lost its replica, and is marked FAILED by
   * whoever takes its lease first. A RUNNING one with a lease is left alone: its replica is alive.
   */
  private async sweepShared(shared: SharedExportJobs, nowMs: number): Promise<void> {
    let jobs: ExportJob[];
    try {
      jobs = await shared.loadAll();
    } catch {
      return;
    }
    for (const job of jobs) {
      try {
        if (isExpired(job, nowMs)) {
          this.jobs.delete(job.id);
          await shared.remove(job.id);
          await this.store.remove(job.id);
          this.options.logger.info({ exportId: job.id }, 'export expired and deleted');
        } else if (job.status === 'RUNNING' && !this.running.has(job.id) && (await shared.takeLease(job.id))) {
          try {
            const current = await shared.load(job.id);
            if (current?.status !== 'RUNNING') continue;
            markRestarted(current, nowMs, this.options.settings.ttlSeconds);
            await shared.save(current);
            await this.store.removeParts(current.id);
            this.options.logger.warn({ exportId: current.id }, 'export was running on a replica that stopped or lost its lease: marked FAILED');
          } finally {
            await shared.releaseLease(job.id);
          }
        }
      } catch (error) {
        this.options.logger.warn({ err: error, exportId: job.id }, 'could not sweep an export in the shared store');
      }
    }
  }

  /** Renews the leases of the jobs this process runs, writes their progress, and stops those cancelled on another replica. */
  private async heartbeat(): Promise<void> {
    const { shared } = this.options;
    if (!shared) return;
    for (const [jobId, { controller }] of [...this.running]) {
      const job = this.jobs.get(jobId);
      if (!job) continue;
      try {
        if (!(await shared.renewLease(jobId))) {
          this.options.logger.warn({ exportId: jobId }, 'another replica holds the lease of an export running here (Redis was unreachable longer than a lease)');
        }
        if (!this.running.has(jobId)) continue;
        await shared.save(job);
        if (await shared.cancelRequested(jobId)) controller.abort();
      } catch {
        // Redis unreachable (logged by the store): the next heartbeat writes the job back.
      }
    }
  }

  /** Writes a job's record: in the shared store, or as a file. A shared store that fails is logged by it; the job lives on here. */
  private async persist(job: ExportJob): Promise<void> {
    if (this.options.shared) await this.sharedWrite(job.id, (shared) => shared.save(job));
    else await this.store.save(job);
  }

  private async sharedWrite(jobId: string, write: (shared: SharedExportJobs) => Promise<void>): Promise<void> {
    const { shared } = this.options;
    if (!shared) return;
    try {
      await write(shared);
    } catch {
      this.options.logger.warn({ exportId: jobId }, 'export record not written to the shared store; the heartbeat writes it once Redis is back');
    }
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
    await this.persist(job);
    if (this.options.shared) await this.sharedWrite(job.id, (shared) => shared.releaseLease(job.id));
    this.options.logger.info({ exportId: job.id, status: job.status, events: job.progress.eventsWritten, complete: job.complete, error: job.error?.code }, 'export ended');
  }

  /**
   * Jobs on disk from before this start: a RUNNING one was cut short by a restart. With `shared`,
   * the sweep does it for jobs whose lease lapsed, and only what no replica runs or keeps is
   * deleted from the directory the replicas share.
   */
  private async recover(): Promise<void> {
    const { shared } = this.options;
    if (shared) {
      await this.sweep();
      const jobs = await shared.loadAll();
      const ids = (status: ExportJob['status']) => new Set(jobs.filter((job) => job.status === status).map((job) => job.id));
      await this.store.removeLeftovers(ids('COMPLETED'), ids('RUNNING'));
      return;
    }
    const { jobs, unreadable } = await this.store.loadAll();
    if (unreadable.length > 0) this.options.logger.warn({ files: unreadable }, 'export files that are not a readable job were left alone');
    const nowMs = Date.now();
    for (const job of jobs) {
      if (job.status === 'RUNNING') {
        markRestarted(job, nowMs, this.options.settings.ttlSeconds);
        await this.store.save(job);
        this.options.logger.warn({ exportId: job.id }, 'export was running when the gateway stopped: marked FAILED');
      }
      this.jobs.set(job.id, job);
    }
    await this.store.removeLeftovers(new Set(jobs.filter((job) => job.status === 'COMPLETED').map((job) => job.id)));
    await this.sweep();
  }
}

/** A job whose gateway stopped under it: FAILED (`GATEWAY_RESTARTED`), its unfinished sources INCOMPLETE. */
function markRestarted(job: ExportJob, nowMs: number, ttlSeconds: number): void {
  job.status = 'FAILED';
  job.error = { code: 'GATEWAY_RESTARTED', message: 'the gateway restarted before the export finished; start it again', sourceId: null };
  job.completedAt = new Date(nowMs).toISOString();
  job.expiresAt = new Date(nowMs + ttlSeconds * 1000).toISOString();
  for (const record of job.sources) {
    if (record.status !== 'READING') continue;
    record.status = 'INCOMPLETE';
    record.errorCode = 'GATEWAY_RESTARTED';
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
