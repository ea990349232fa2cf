import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AuditEventModel } from '../models/audit-event';
import { appendChainedLine, CHAIN_START, chainedLine, type LineSink } from './chain';
import { CSV_HEADER, csvRecord } from './csv';
import type { ManifestFile } from './manifest';
import { toExportedEvent } from './to-record';

/** Size of the buffers text is encoded into; what is handed on is a view of one, not a copy. */
const CHUNK_BYTES = 256 * 1024;

/**
 * One data file being written: text is encoded straight into a buffer (no growing string to
 * flatten and encode again), and what was appended is handed to the sink as views of it. A buffer
 * is filled to its end before the next is allocated, so the memory held is what the sink has not
 * written yet plus one buffer.
 */
class DataFile implements LineSink {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  records = 0;
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Start of what was appended and not taken yet. */
  private start = 0;
  private offset = 0;
  private readonly ready: Buffer[] = [];

  constructor(
    readonly name: string,
    readonly sink: Writable,
  ) {}

  append(text: string): Buffer {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: a text that may not fit starts a buffer.
    if (this.chunk.length - this.offset < text.length * 3) this.nextChunk(text.length * 3);
    const start = this.offset;
    this.offset += this.chunk.write(text, start, 'utf8');
    return this.chunk.subarray(start, this.offset);
  }

  appendLineFeed(): void {
    if (this.offset === this.chunk.length) this.nextChunk(1);
    this.chunk[this.offset++] = 0x0a;
  }

  /** The bytes appended since the last call, hashed and counted. */
  take(): Buffer[] {
    this.keepAppended();
    const taken = this.ready.splice(0);
    for (const bytes of taken) {
      this.hash.update(bytes);
      this.bytes += bytes.length;
    }
    return taken;
  }

  private keepAppended(): void {
    if (this.offset > this.start) this.ready.push(this.chunk.subarray(this.start, this.offset));
    this.start = this.offset;
  }

  private nextChunk(atLeast: number): void {
    this.keepAppended();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    this.start = 0;
    this.offset = 0;
  }
}

/**
 * Turns events, in order, into the lines of `events.jsonl` (each with its chain hash) and the
 * records of `events.csv`, hashing each file's exact bytes as it goes. `write` only encodes;
 * `flush` hands the bytes to the sinks and waits while one is full, which is how the export reads
 * its sources no faster than the disk takes them.
 */
export class EventBundleWriter {
  private chain = CHAIN_START;
  private events = 0;
  private readonly jsonl: DataFile | null;
  private readonly csv: DataFile | null;

  constructor(
    sinks: { jsonl?: { name: string; sink: Writable }; csv?: { name: string; sink: Writable } },
    /** Rejects when a sink's destination fails, so that a wait for a drain never outlives it. */
    private readonly failed: () => Promise<never>,
  ) {
    this.jsonl = sinks.jsonl ? new DataFile(sinks.jsonl.name, sinks.jsonl.sink) : null;
    this.csv = sinks.csv ? new DataFile(sinks.csv.name, sinks.csv.sink) : null;
    this.csv?.append(CSV_HEADER);
  }

  /** Appends one event; the chain runs whichever files are written, so the CSV names the same links. */
  write(event: AuditEventModel): void {
    const record = toExportedEvent(event);
    this.events += 1;
    if (this.jsonl) {
      this.chain = appendChainedLine(this.jsonl, record, this.chain);
      this.jsonl.appendLineFeed();
      this.jsonl.records += 1;
    } else {
      this.chain = chainedLine(record, this.chain).chainHash;
    }
    if (this.csv) {
      this.csv.append(csvRecord(record, this.chain));
      this.csv.records += 1;
    }
  }

  /** Writes what was encoded, waiting while a sink is over its high-water mark. */
  async flush(): Promise<void> {
    const waits: Array<Promise<unknown>> = [];
    for (const file of [this.jsonl, this.csv]) {
      if (!file) continue;
      let full = false;
      for (const bytes of file.take()) full = !file.sink.write(bytes) || full;
      if (full) waits.push(once(file.sink, 'drain'));
    }
    if (waits.length > 0) await Promise.race([Promise.all(waits), this.failed()]);
  }

  /** Flushes, ends every sink, and says what each file holds. */
  async finish(): Promise<{ files: ManifestFile[]; events: number; finalChainHash: string }> {
    await this.flush();
    const files: ManifestFile[] = [];
    for (const file of [this.jsonl, this.csv]) {
      if (!file) continue;
      file.sink.end();
      await Promise.race([finished(file.sink, { readable: false }), this.failed()]);
      files.push({ name: file.name, bytes: file.bytes, sha256: file.hash.digest('hex'), records: file.records });
    }
    return { files, events: this.events, finalChainHash: this.chain };
  }

  get eventsWritten(): number {
    return this.events;
  }
}
