import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SharedStore } from '../../src/cache/redis-store';
import type { ExportJob } from '../../src/export/job';
import { ExportJobStore } from '../../src/export/job-store';
import { ExportService } from '../../src/export/service';
import { EXPORT_DEFAULTS } from '../../src/export/settings';
import { SharedExportJobs } from '../../src/export/shared-jobs';
import { createLogger } from '../../src/logger';
import { jobRecord as runningJob } from '../helpers/export-job';
import { startTestRedis, type TestRedis } from '../helpers/redis';

/** A job record of the JSONL format only. */
function jobRecord(overrides: Partial<ExportJob> = {}): ExportJob {
  return runningJob({ formats: ['JSONL'], ...overrides });
}

describe('export jobs shared through Redis', () => {
  let redis: TestRedis;
  let dir: string;
  const stores: SharedStore[] = [];
  const services: ExportService[] = [];
  const logger = createLogger({ level: 'silent' });
  const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-exports-'));
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await redis?.stop();
  });

  async function jobsOf(replicaId: string, prefix: string): Promise<SharedExportJobs> {
    const store = await SharedStore.connect({ url: redis.url, logger, prefix });
    stores.push(store);
    return new SharedExportJobs(store, { replicaId, leaseMs: 60_000 });
  }

  async function open(shared: SharedExportJobs): Promise<ExportService> {
    const service = await ExportService.open({ settings: { ...EXPORT_DEFAULTS, dir, signingKeyPem }, settleWindowMs: 0, logger, shared, sweepIntervalMs: 60_000 });
    services.push(service);
    return service;
  }

  it('a replica that starts leaves the running export of another alone, and fails one whose replica is gone', async () => {
    const replicaA = await jobsOf('replica-a', 'restart:');
    const files = new ExportJobStore(dir);
    await files.init();
    const alive: ExportJob = jobRecord({ ownerId: 'ops' });
    const abandoned: ExportJob = jobRecord({ ownerId: 'ops' });
    const done: ExportJob = jobRecord({ ownerId: 'ops', status: 'COMPLETED', archive: { name: 'a.zip', bytes: 3, sha256: 'x' }, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(await replicaA.takeLease(alive.id)).toBe(true);
    for (const job of [alive, abandoned, done]) await replicaA.save(job);
    fs.writeFileSync(files.partPath(alive.id, 'zip'), 'being written by replica A');
    fs.writeFileSync(files.partPath(abandoned.id, 'zip'), 'left by a replica that died');
    fs.writeFileSync(files.archivePath(done.id), 'zip');

    const b = await open(await jobsOf('replica-b', 'restart:'));

    expect(await b.get(alive.id, 'ops')).toMatchObject({ status: 'RUNNING' });
    expect(fs.existsSync(files.partPath(alive.id, 'zip'))).toBe(true);
    expect(await b.get(abandoned.id, 'ops')).toMatchObject({ status: 'FAILED', error: { code: 'GATEWAY_RESTARTED' }, sources: [{ status: 'INCOMPLETE', errorCode: 'GATEWAY_RESTARTED' }] });
    expect(fs.existsSync(files.partPath(abandoned.id, 'zip'))).toBe(false);
    expect(await b.get(done.id, 'ops')).toMatchObject({ status: 'COMPLETED' });
    expect(await b.download(done.id, 'ops')).toMatchObject({ path: files.archivePath(done.id), bytes: 3 });
    // Only the owner sees a job, on any replica.
    expect(await b.get(done.id, 'someone-else')).toBeNull();
    // No job file in the shared directory: records live in Redis.
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.json'))).toEqual([]);
  });

  it('cancels an export running on another replica through the store, answering once that replica ended it', async () => {
    const replicaA = await jobsOf('replica-a', 'cancel:');
    const running: ExportJob = jobRecord({ ownerId: 'ops' });
    await replicaA.takeLease(running.id);
    await replicaA.save(running);
    const b = await open(await jobsOf('replica-b', 'cancel:'));

    const cancelled = b.cancel(running.id, 'ops');
    // Replica A's heartbeat, played by the test: it sees the request and ends the job.
    for (let waited = 0; !(await replicaA.cancelRequested(running.id)); waited += 1) {
      if (waited > 400) throw new Error('no cancellation request reached the store');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await replicaA.save({ ...running, status: 'CANCELLED', completedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await replicaA.releaseLease(running.id);
    expect(await cancelled).toMatchObject({ id: running.id, status: 'CANCELLED' });
  });

  it('deletes an expired export whichever replica ran it: record and archive', async () => {
    const replicaA = await jobsOf('replica-a', 'expiry:');
    const files = new ExportJobStore(dir);
    await files.init();
    const expired: ExportJob = jobRecord({ ownerId: 'ops', status: 'COMPLETED', expiresAt: new Date(Date.now() - 1_000).toISOString() });
    await replicaA.save(expired);
    fs.writeFileSync(files.archivePath(expired.id), 'zip');

    const b = await open(await jobsOf('replica-b', 'expiry:'));
    expect(await b.get(expired.id, 'ops')).toBeNull();
    expect(await replicaA.load(expired.id)).toBeNull();
    expect(fs.existsSync(files.archivePath(expired.id))).toBe(false);
  });
});
