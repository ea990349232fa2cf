import type { SharedStore } from '../cache/redis-store';
import { exportJobSchema, type ExportJob } from './job';

/** Options of {@link SharedExportJobs}. */
export interface SharedExportJobsOptions {
  /** This process among the replicas: the holder of the leases of the exports it runs. */
  replicaId: string;
  /**
   * How long a lease lasts without a renewal; default 15,000 ms. The replica running an export
   * renews it every third of that; an export whose lease lapsed has no replica running it.
   */
  leaseMs?: number;
}

/** How long a finished job's record outlives its expiry, so that a sweep finds it and deletes its archive first. */
const RECORD_GRACE_MS = 3_600_000;

/**
 * Export jobs in the Redis the replicas share, so that any replica answers `auditExport(id)`,
 * `node(id)` and the download of a job another one runs (their archives are in the exports
 * directory, which replicas must share as a volume).
 *
 * - `export:job:<id>`: the job as JSON, written at every change of status and, while it runs,
 *   with its progress at every heartbeat; it expires an hour after the job does.
 * - `export:jobs`: the set of job ids, for sweeps.
 * - `export:lease:<id>`: the replica running the job, renewed while it runs. A RUNNING job
 *   without a lease was cut short (its replica died or stopped without finishing it): any replica
 *   may then take the lease and mark it FAILED. A running job always has a live lease, so a
 *   replica that restarts never fails another's.
 * - `export:cancel:<id>`: a cancellation asked on another replica, seen by the running one at its
 *   next heartbeat.
 */
export class SharedExportJobs {
  readonly replicaId: string;
  readonly leaseMs: number;

  constructor(
    private readonly store: SharedStore,
    options: SharedExportJobsOptions,
  ) {
    this.replicaId = options.replicaId;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  async save(job: ExportJob): Promise<void> {
    const text = JSON.stringify(job);
    const expiresMs = job.expiresAt === null ? null : Date.parse(job.expiresAt);
    await this.store.set(jobKey(job.id), text, expiresMs === null ? {} : { ttlMs: Math.max(1, expiresMs - Date.now() + RECORD_GRACE_MS) });
    await this.store.addToSet(JOB_SET, job.id);
  }

  async load(id: string): Promise<ExportJob | null> {
    return parseJob(id, await this.store.get(jobKey(id)));
  }

  /** Every job recorded; ids whose record expired are dropped from the set. */
  async loadAll(): Promise<ExportJob[]> {
    const ids = await this.store.setMembers(JOB_SET);
    const texts = await this.store.getMany(ids.map(jobKey));
    const jobs: ExportJob[] = [];
    for (const [index, id] of ids.entries()) {
      const job = parseJob(id, texts[index] ?? null);
      if (job) jobs.push(job);
      else await this.store.removeFromSet(JOB_SET, id);
    }
    return jobs;
  }

  async remove(id: string): Promise<void> {
    await this.store.delete(jobKey(id), leaseKey(id), cancelKey(id));
    await this.store.removeFromSet(JOB_SET, id);
  }

  /** Takes the lease of `id` for this replica if nobody holds it. */
  takeLease(id: string): Promise<boolean> {
    return this.store.takeLease(leaseKey(id), this.replicaId, this.leaseMs);
  }

  /** Extends this replica's lease (or takes it back after an outage); false when another replica holds it. */
  renewLease(id: string): Promise<boolean> {
    return this.store.renewLease(leaseKey(id), this.replicaId, this.leaseMs);
  }

  releaseLease(id: string): Promise<void> {
    return this.store.releaseLease(leaseKey(id), this.replicaId);
  }

  async requestCancel(id: string): Promise<void> {
    await this.store.set(cancelKey(id), this.replicaId, { ttlMs: RECORD_GRACE_MS });
  }

  cancelRequested(id: string): Promise<boolean> {
    return this.store.exists(cancelKey(id));
  }
}

const JOB_SET = 'export:jobs';

function jobKey(id: string): string {
  return `export:job:${id}`;
}

function leaseKey(id: string): string {
  return `export:lease:${id}`;
}

function cancelKey(id: string): string {
  return `export:cancel:${id}`;
}

function parseJob(id: string, text: string | null): ExportJob | null {
  if (text === null) return null;
  try {
    const parsed = exportJobSchema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.id === id ? (parsed.data as ExportJob) : null;
  } catch {
    return null;
  }
}
