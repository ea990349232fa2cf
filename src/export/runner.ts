import { createHash, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import { ZipArchiveWriter } from './archive';
import { EventBundleWriter } from './bundle-writer';
import { CHAIN_START } from './chain';
import { encodeExportId } from './export-id';
import type { ExportError, ExportJob, ExportSourceRecord } from './job';
import type { ExportJobStore } from './job-store';
import { BUNDLE_FILES, MANIFEST_FORMAT, manifestBytes, type Manifest, type ManifestFile } from './manifest';
import type { ExportSettings } from './settings';
import { keyIdOf, publicKeyPem, signatureFile } from './signature';
import { Cancelled, mergeSources, noteRetention, SourceFailed, type SourceReading } from './read-sources';

/** What one export run needs. */
export interface ExportRun extends SourceReading {
  settings: ExportSettings;
  signingKey: KeyObject;
  gateway: { name: string; version: string };
  store: ExportJobStore;
}

/** How a run ended; the caller records it. */
export type ExportRunOutcome = { kind: 'completed' } | { kind: 'failed'; error: ExportError } | { kind: 'cancelled' };

/** The first failure of any file the run writes; waits on a full sink race it, so none outlives it. */
class FailureLatch {
  private rejectWith: ((error: unknown) => void) | null = null;
  readonly promise = new Promise<never>((_resolve, reject) => {
    this.rejectWith = reject;
  });

  constructor() {
    this.promise.catch(() => undefined);
  }

  fail(error: unknown): void {
    this.rejectWith?.(error);
    this.rejectWith = null;
  }
}

/**
 * Runs one export: reads every selected source through the connection engine (one
 * {@link SourceStream} per source, bounded by the snapshot, merged by {@link mergePage} in the
 * requested order, exactly as `auditEvents` pages), writes the events to the bundle's files as they
 * come, and finishes the archive with the signed manifest. Memory stays bounded: events are written
 * a chunk at a time and the sources are read no faster than the disk takes them.
 *
 * A source that fails is read again from its own cursor state (where it stopped), up to
 * `sourceRetries` times, while the merge waits, so the order holds. After that the export fails,
 * or with `tolerateSourceFailure` goes on without the source, which the manifest marks INCOMPLETE.
 */
export async function runExport(run: ExportRun): Promise<ExportRunOutcome> {
  const { job, store, signal } = run;
  const latch = new FailureLatch();
  const archive = new ZipArchiveWriter(store.partPath(job.id, 'zip'), { compressionLevel: run.settings.compressionLevel, mtime: new Date(job.createdAt) });
  archive.failed.catch((error: unknown) => latch.fail(error));
  const sinks: Writable[] = [];
  try {
    const writer = openWriter(run, archive, latch, sinks);
    await noteRetention(run);
    await mergeSources(run, writer);
    const written = await writer.finish();
    // The second format (CSV after JSONL) was written beside the archive: it follows the first now.
    if (job.formats.length === 2) archive.addFile(BUNDLE_FILES.csv, store.partPath(job.id, 'csv'));
    const manifest = buildManifest(run, written);
    const manifestFile = manifestBytes(manifest);
    const signature = Buffer.from(signatureFile(manifestFile, run.signingKey), 'latin1');
    archive.addBuffer(BUNDLE_FILES.manifest, manifestFile);
    archive.addBuffer(BUNDLE_FILES.signature, signature);
    const archived = await Promise.race([archive.finish(`audit-export-${job.id}.zip`), latch.promise]);
    if (signal.aborted) throw new Cancelled();
    await fs.promises.rename(archive.path, store.archivePath(job.id));
    await store.removeParts(job.id);

    const manifestSha256 = sha256(manifestFile);
    job.files = [
      ...written.files.map(({ name, bytes, sha256: digest }) => ({ name, bytes, sha256: digest })),
      { name: BUNDLE_FILES.manifest, bytes: manifestFile.length, sha256: manifestSha256 },
      { name: BUNDLE_FILES.signature, bytes: signature.length, sha256: sha256(signature) },
    ];
    job.archive = archived;
    job.manifestSha256 = manifestSha256;
    job.chainHash = written.finalChainHash;
    job.complete = manifest.complete;
    job.completedAt = manifest.completedAt;
    return { kind: 'completed' };
  } catch (error) {
    archive.abort();
    for (const sink of sinks) sink.destroy();
    await store.removeParts(job.id).catch(() => undefined);
    // A stopping gateway aborts with its own reason (a code); a cancellation with none.
    markUnfinished(job, signal.aborted ? (typeof signal.reason === 'string' ? signal.reason : 'CANCELLED') : 'EXPORT_STOPPED');
    if (signal.aborted || error instanceof Cancelled) return { kind: 'cancelled' };
    if (error instanceof SourceFailed) {
      const { failure } = error;
      return { kind: 'failed', error: { code: failure.code, message: `${failure.message}; the export stopped`, sourceId: failure.sourceId } };
    }
    run.logger.error({ err: error, exportId: job.id }, 'export failed');
    return { kind: 'failed', error: { code: 'EXPORT_FAILED', message: 'the export could not be written; the server log has the cause', sourceId: null } };
  }
}

/**
 * The data files: the first format streams straight into the archive; a second one goes to a
 * part file beside it and joins the archive when the first is complete (a zip holds one entry
 * after another).
 */
function openWriter(run: ExportRun, archive: ZipArchiveWriter, latch: FailureLatch, sinks: Writable[]): EventBundleWriter {
  const { job, store } = run;
  const names = job.formats.map((format) => (format === 'JSONL' ? BUNDLE_FILES.jsonl : BUNDLE_FILES.csv));
  const entries: { jsonl?: { name: string; sink: Writable }; csv?: { name: string; sink: Writable } } = {};
  names.forEach((name, index) => {
    let sink: Writable;
    if (index === 0) {
      const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
      archive.addStream(name, stream);
      sink = stream;
    } else {
      sink = fs.createWriteStream(store.partPath(job.id, 'csv'), { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
    }
    sink.on('error', (error) => latch.fail(error));
    sinks.push(sink);
    entries[name === BUNDLE_FILES.jsonl ? 'jsonl' : 'csv'] = { name, sink };
  });
  return new EventBundleWriter(entries, () => latch.promise);
}

/** Sources still being read when a run stops are INCOMPLETE, with why. */
function markUnfinished(job: ExportJob, code: string | null): void {
  for (const record of job.sources) {
    if (record.status !== 'READING') continue;
    record.status = 'INCOMPLETE';
    record.errorCode ??= code;
  }
}

function buildManifest(run: ExportRun, written: { files: ManifestFile[]; events: number; finalChainHash: string }): Manifest {
  const { job } = run;
  const sources = job.sources.map((record: ExportSourceRecord) => ({
    sourceId: record.sourceId,
    vendor: record.vendor,
    status: record.status === 'READING' ? ('INCOMPLETE' as const) : record.status,
    events: record.eventsWritten,
    errorCode: record.errorCode,
    retainedFrom: record.retainedFrom,
    notApplicableFields: record.notApplicableFields,
    unusableRecords: record.unusableRecords,
  }));
  return {
    format: MANIFEST_FORMAT,
    exportId: encodeExportId(job.id),
    gateway: run.gateway,
    createdAt: job.createdAt,
    completedAt: new Date().toISOString(),
    asOf: job.asOf,
    filter: job.filter,
    orderBy: { field: 'OCCURRED_AT', direction: job.order },
    complete: sources.every((source) => source.status !== 'INCOMPLETE'),
    sources,
    events: { count: written.events, chain: { algorithm: 'SHA-256', canonicalization: 'RFC 8785', start: CHAIN_START, final: written.finalChainHash } },
    files: written.files,
    signature: { algorithm: 'Ed25519', keyId: keyIdOf(run.signingKey), publicKey: publicKeyPem(run.signingKey) },
  };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
