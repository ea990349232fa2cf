import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { ExportFileRecord } from './job';

/**
 * The bundle's zip archive, written as a stream with yazl: entries of unknown size stream through
 * (data descriptors, ZIP64 when large), compressed by zlib on libuv's thread pool, and the
 * archive's own size and SHA-256 are taken as it is written.
 */
export class ZipArchiveWriter {
  private readonly zip = new yazl.ZipFile();
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly written: Promise<void>;
  private readonly output: fs.WriteStream;

  constructor(
    private readonly file: string,
    private readonly options: { compressionLevel: number; mtime: Date },
  ) {
    this.output = fs.createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
    const measure = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        done(null, chunk);
      },
    });
    this.written = pipeline(this.zip.outputStream, measure, this.output);
    // yazl reports a failing entry (its source stream broke) on the zip file, not on its output.
    this.zip.on('error', (error: Error) => this.output.destroy(error));
    // Observed here so that a failure before `finish` is awaited is never unhandled; `finish` and `failed` rethrow it.
    this.written.catch(() => undefined);
  }

  /** Settles with the write's error, if it fails; writers race it against waiting for a drain. */
  get failed(): Promise<never> {
    return this.written.then(
      () => new Promise<never>(() => undefined),
      (error: unknown) => Promise.reject(error),
    );
  }

  /** An entry read from `stream` as it is produced; entries are written in the order they are added. */
  addStream(name: string, stream: Readable): void {
    this.zip.addReadStreamLazy(name, this.entryOptions(), (callback) => callback(null, stream));
  }

  addFile(name: string, file: string): void {
    this.zip.addFile(file, name, this.entryOptions());
  }

  addBuffer(name: string, buffer: Buffer): void {
    this.zip.addBuffer(buffer, name, this.entryOptions());
  }

  /** Writes the central directory and waits for every byte to reach the file. */
  async finish(name: string): Promise<ExportFileRecord> {
    this.zip.end();
    await this.written;
    return { name, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Stops writing; the caller deletes the file. */
  abort(): void {
    this.output.destroy();
    (this.zip.outputStream as Readable).destroy();
  }

  private entryOptions(): { compress: boolean; compressionLevel: number; mtime: Date } {
    const { compressionLevel, mtime } = this.options;
    return { compress: compressionLevel > 0, compressionLevel, mtime };
  }

  get path(): string {
    return this.file;
  }
}
