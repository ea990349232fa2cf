import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CHAIN_START, checkChainedLine } from './chain';
import { CSV_HEADER, csvRecord } from './csv';
import type { ExportedEvent } from './event-record';
import { BUNDLE_FILES, type Manifest } from './manifest';
import { splitLines } from './lines';

/**
 * The checks of the data files of a bundle against its manifest, each streaming its file once:
 * `events.jsonl` line by line, `events.csv` against the records the JSONL determines.
 */

/** A check that failed; `claim` locates the manifest's statement the file contradicts, if that is what failed. */
export interface FileProblem {
  status: 'tampered';
  file: string;
  line: number | null;
  problem: string;
  claim: string | null;
}

export function fileProblem(file: string, line: number | null, problem: string, claim: string | null = null): FileProblem {
  return { status: 'tampered', file, line, problem, claim };
}

/** Size, SHA-256 and record count of a file against its manifest entry. */
function checkTotals(manifest: Manifest, name: string, bytes: number, sha256: string, records: number): FileProblem | null {
  const entry = manifest.files.find((file) => file.name === name)!;
  if (entry.records !== records) return fileProblem(name, null, `${records} records, the manifest lists ${entry.records}`, `"records": ${entry.records}`);
  if (entry.bytes !== bytes) return fileProblem(name, null, `${bytes} bytes, the manifest lists ${entry.bytes}`, `"bytes": ${entry.bytes}`);
  if (entry.sha256 !== sha256) return fileProblem(name, null, `SHA-256 ${sha256}, the manifest lists ${entry.sha256}`, `"${entry.sha256}"`);
  return null;
}

/** A line's event key, for the order check. */
type Key = [number, string, string];

function keyOfEvent(event: Record<string, unknown>): Key | null {
  const { occurredAt, sourceId, sourceEventId } = event;
  if (typeof occurredAt !== 'string' || typeof sourceId !== 'string' || typeof sourceEventId !== 'string') return null;
  const ms = Date.parse(occurredAt);
  return Number.isNaN(ms) ? null : [ms, sourceId, sourceEventId];
}

function compareKeys(a: Key, b: Key): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

export async function checkJsonl(stream: Readable, manifest: Manifest): Promise<FileProblem | null> {
  const name = BUNDLE_FILES.jsonl;
  const hash = createHash('sha256');
  const descending = manifest.orderBy.direction === 'DESC';
  const readable = new Map(manifest.sources.filter((source) => source.status === 'COMPLETE' || source.status === 'INCOMPLETE').map((source) => [source.sourceId, 0]));
  let previous = CHAIN_START;
  let previousKey: Key | null = null;
  let lines = 0;
  let bytes = 0;
  for await (const { text, raw, terminated } of splitLines(stream)) {
    hash.update(raw);
    bytes += raw.length;
    lines += 1;
    if (!terminated) return fileProblem(name, lines, 'the last line has no line feed');
    const checked = checkChainedLine(text, previous);
    if (!checked.ok) return fileProblem(name, lines, checked.problem);
    if (!Buffer.from(text, 'utf8').equals(raw.subarray(0, raw.length - 1))) return fileProblem(name, lines, 'not valid UTF-8');
    const key = keyOfEvent(checked.event);
    if (key === null) return fileProblem(name, lines, 'not an exported event (occurredAt, sourceId, sourceEventId)');
    if (previousKey !== null) {
      const order = compareKeys(previousKey, key);
      if (order === 0 || (descending ? order < 0 : order > 0)) return fileProblem(name, lines, `out of ${manifest.orderBy.direction} order (occurredAt, sourceId, sourceEventId)`);
    }
    const seen = readable.get(key[1]);
    if (seen === undefined) return fileProblem(name, lines, `an event of source '${key[1]}', which the manifest does not list as read`);
    readable.set(key[1], seen + 1);
    previousKey = key;
    previous = checked.chainHash;
  }
  if (lines !== manifest.events.count) return fileProblem(name, lines + 1, `${lines} events, the manifest lists ${manifest.events.count}`, `"count": ${manifest.events.count}`);
  if (previous !== manifest.events.chain.final) return fileProblem(name, lines, `the last chainHash is ${previous}, the manifest lists ${manifest.events.chain.final}`, `"${manifest.events.chain.final}"`);
  for (const source of manifest.sources) {
    const counted = readable.get(source.sourceId) ?? 0;
    if (counted !== source.events) return fileProblem(name, null, `${counted} events of source '${source.sourceId}', the manifest lists ${source.events}`, `"sourceId": "${source.sourceId}"`);
  }
  return checkTotals(manifest, name, bytes, hash.digest('hex'), lines);
}

/**
 * `events.csv` must be, byte for byte, what the CSV writer makes of the events of `events.jsonl`
 * (checked before): the first byte that differs gives the line.
 */
export async function checkCsvAgainstJsonl(csv: Readable, jsonl: Readable, manifest: Manifest): Promise<FileProblem | null> {
  const name = BUNDLE_FILES.csv;
  const actual = new ByteReader(csv);
  const mismatch = async (expected: string): Promise<FileProblem | null> => {
    const differs = await actual.expect(Buffer.from(expected, 'utf8'));
    return differs === null ? null : fileProblem(name, actual.line, differs);
  };
  let records = 0;
  let problem = await mismatch(CSV_HEADER);
  if (problem) return problem;
  for await (const { text } of splitLines(jsonl)) {
    const { [`chainHash`]: chainHash, ...event } = JSON.parse(text) as Record<string, unknown>;
    problem = await mismatch(csvRecord(event as ExportedEvent, chainHash as string));
    if (problem) return problem;
    records += 1;
  }
  if (!(await actual.atEnd())) return fileProblem(name, actual.line, 'more records than events.jsonl has lines');
  return checkTotals(manifest, name, actual.bytes, actual.digest(), records);
}

/**
 * Without `events.jsonl` the CSV's values cannot be recomputed: its header, record structure,
 * count, last chain hash, size and SHA-256 are checked.
 */
export async function checkCsvAlone(csv: Readable, manifest: Manifest): Promise<FileProblem | null> {
  const name = BUNDLE_FILES.csv;
  const hash = createHash('sha256');
  let bytes = 0;
  let line = 1;
  let records = -1;
  let lastChain = CHAIN_START;
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let afterQuote = false;
  const headerFields = CSV_HEADER.trimEnd().split(',');
  for await (const chunk of csv) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
    const text = buffer.toString('latin1');
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i]!;
      if (c === '\n') line += 1;
      if (quoted) {
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else field += c;
        continue;
      }
      if (c === '"') {
        if (field !== '' && !afterQuote) return fileProblem(name, line, 'a quote inside an unquoted field');
        if (afterQuote) field += '"';
        quoted = true;
        afterQuote = false;
        continue;
      }
      afterQuote = false;
      if (c === ',') {
        fields.push(field);
        field = '';
      } else if (c === '\r') {
        // Records end in CRLF; a CR elsewhere outside quotes breaks the record.
        if (i + 1 < text.length && text[i + 1] !== '\n') return fileProblem(name, line, 'a CR without LF outside quotes');
      } else if (c === '\n') {
        fields.push(field);
        field = '';
        if (fields.length !== headerFields.length) return fileProblem(name, line - 1, `${fields.length} fields, not ${headerFields.length}`);
        if (records === -1 && fields.join(',') !== headerFields.join(',')) return fileProblem(name, 1, 'not the header of an export');
        if (records >= 0) {
          const chain = fields[fields.length - 1]!;
          if (!/^[0-9a-f]{64}$/.test(chain)) return fileProblem(name, line - 1, 'chain_hash is not a SHA-256');
          lastChain = chain;
        }
        records += 1;
        fields = [];
      } else field += c;
    }
  }
  if (quoted || field !== '' || fields.length > 0) return fileProblem(name, line, 'the last record is not terminated by CRLF');
  if (records !== manifest.events.count) return fileProblem(name, line, `${records} records, the manifest lists ${manifest.events.count} events`, `"count": ${manifest.events.count}`);
  if (lastChain !== manifest.events.chain.final) return fileProblem(name, line - 1, 'the last chain_hash is not the manifest\'s final chain hash', `"${manifest.events.chain.final}"`);
  return checkTotals(manifest, name, bytes, hash.digest('hex'), Math.max(records, 0));
}

/** Reads a stream in step with expected bytes, hashing what it reads and counting its lines. */
class ByteReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly hash = createHash('sha256');
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  bytes = 0;
  /** The 1-based line the next byte is on. */
  line = 1;

  constructor(stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Consumes `expected`; null when the stream holds exactly it, else what differs (the stream stops at the first differing byte). */
  async expect(expected: Buffer): Promise<string | null> {
    let at = 0;
    while (at < expected.length) {
      if (this.offset >= this.buffer.length && !(await this.refill())) return 'ends early';
      const length = Math.min(expected.length - at, this.buffer.length - this.offset);
      const actual = this.buffer.subarray(this.offset, this.offset + length);
      const wanted = expected.subarray(at, at + length);
      if (!actual.equals(wanted)) {
        let same = 0;
        while (actual[same] === wanted[same]) same += 1;
        this.line += lineFeedsIn(actual.subarray(0, same));
        return 'differs from the record events.jsonl gives for this event';
      }
      this.hash.update(actual);
      this.line += lineFeedsIn(actual);
      this.bytes += length;
      this.offset += length;
      at += length;
    }
    return null;
  }

  async atEnd(): Promise<boolean> {
    return this.offset >= this.buffer.length && !(await this.refill());
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  private async refill(): Promise<boolean> {
    for (;;) {
      const next = await this.chunks.next();
      if (next.done) return false;
      if (next.value.length === 0) continue;
      this.buffer = next.value;
      this.offset = 0;
      return true;
    }
  }
}

function lineFeedsIn(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) count += 1;
  return count;
}
