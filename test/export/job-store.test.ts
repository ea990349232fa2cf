import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newExportJobId } from '../../src/export/export-id';
import { ExportJobStore } from '../../src/export/job-store';
import { jobRecord } from '../helpers/export-job';


describe('the export job store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-store-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps jobs as JSON, reads them back, and leaves other files alone', async () => {
    const store = new ExportJobStore(dir);
    await store.init();
    const job = jobRecord();
    await store.save(job);
    fs.writeFileSync(path.join(dir, `${newExportJobId()}.json`), '{ not json');
    fs.writeFileSync(path.join(dir, 'README'), 'mine');
    const { jobs, unreadable } = await store.loadAll();
    expect(jobs).toEqual([job]);
    expect(unreadable).toHaveLength(1);
    expect(fs.readdirSync(dir)).toContain('README');
  });

  it('deletes part files and archives without a finished job, and everything of a removed job', async () => {
    const store = new ExportJobStore(dir);
    await store.init();
    const done = jobRecord({ status: 'COMPLETED' });
    const stray = newExportJobId();
    await store.save(done);
    fs.writeFileSync(store.archivePath(done.id), 'zip');
    fs.writeFileSync(store.partPath(done.id, 'csv'), 'part');
    fs.writeFileSync(store.archivePath(stray), 'zip');
    await store.removeLeftovers(new Set([done.id]));
    expect(fs.readdirSync(dir).sort()).toEqual([`${done.id}.json`, `${done.id}.zip`].sort());
    await store.remove(done.id);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('never turns a string that is not a job id into a path', () => {
    const store = new ExportJobStore(dir);
    expect(() => store.archivePath('../x')).toThrow();
  });
});
