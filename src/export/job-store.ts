import fs from 'node:fs';
import path from 'node:path';
import { isExportJobId } from './export-id';
import { exportJobSchema, type ExportJob } from './job';

/**
 * The exports directory: `<id>.json` (the job), `<id>.zip` (its archive), `<id>.*.part` (files of a
 * job being written). Job files are replaced atomically (write, then rename), so a crash leaves the
 * previous state, never half of one.
 */
export class ExportJobStore {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Fails start-up at once, with the path, when the directory cannot be written.
    await fs.promises.access(this.dir, fs.constants.W_OK);
  }

  archivePath(id: string): string {
    return path.join(this.dir, `${checked(id)}.zip`);
  }

  /** A file of a job still being written; `name` is a short label (`zip`, `csv`). */
  partPath(id: string, name: string): string {
    return path.join(this.dir, `${checked(id)}.${name}.part`);
  }

  async save(job: ExportJob): Promise<void> {
    const file = path.join(this.dir, `${checked(job.id)}.json`);
    const temporary = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(temporary, `${JSON.stringify(job, null, 2)}\n`, { mode: 0o600 });
    await fs.promises.rename(temporary, file);
  }

  /** Every job on disk; files that are not a job are returned by name, for the caller to log. */
  async loadAll(): Promise<{ jobs: ExportJob[]; unreadable: string[] }> {
    const jobs: ExportJob[] = [];
    const unreadable: string[] = [];
    for (const name of await fs.promises.readdir(this.dir)) {
      if (!name.endsWith('.json') || !isExportJobId(name.slice(0, -'.json'.length))) continue;
      try {
        const parsed = exportJobSchema.safeParse(JSON.parse(await fs.promises.readFile(path.join(this.dir, name), 'utf8')));
        if (parsed.success && parsed.data.id === name.slice(0, -'.json'.length)) jobs.push(parsed.data as ExportJob);
        else unreadable.push(name);
      } catch {
        unreadable.push(name);
      }
    }
    return { jobs, unreadable };
  }

  /**
   * Deletes what a job left that is not its record or finished archive: `.part` and temporary
   * files. The files of `running` jobs stay: in a directory replicas share, another replica may be
   * writing them.
   */
  async removeLeftovers(keep: ReadonlySet<string>, running: ReadonlySet<string> = new Set()): Promise<void> {
    for (const name of await fs.promises.readdir(this.dir)) {
      const id = name.slice(0, 36);
      if (running.has(id)) continue;
      const leftover = name.endsWith('.part') || name.endsWith('.tmp') || (name.endsWith('.zip') && !keep.has(id));
      if (isExportJobId(id) && leftover) await removeFile(path.join(this.dir, name));
    }
  }

  async removeParts(id: string): Promise<void> {
    const prefix = `${checked(id)}.`;
    for (const name of await fs.promises.readdir(this.dir)) if (name.startsWith(prefix) && name.endsWith('.part')) await removeFile(path.join(this.dir, name));
  }

  /** Deletes a job's record, archive and parts. */
  async remove(id: string): Promise<void> {
    await this.removeParts(id);
    await removeFile(this.archivePath(id));
    await removeFile(path.join(this.dir, `${checked(id)}.json`));
  }
}

/** Ids name files: only the UUID form ever reaches a path. */
function checked(id: string): string {
  if (!isExportJobId(id)) throw new Error('not an export job id');
  return id;
}

async function removeFile(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true });
}
