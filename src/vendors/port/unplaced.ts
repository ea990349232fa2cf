import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import type { SourceQuery } from '../../sources/data-source';
import { instantOf, normalizePortAuditLog, parsePortAuditLog, type PortAuditLogRecord } from './normalize';
import type { AscResume, DescResume } from './paging';

/**
 * A record Port returned that could not be placed (record policy), as a batch counts it.
 *
 * Port is read in time windows that overlap at their edges (the millisecond a full read could not
 * finish is read again by the next batch, and a batch may re-read a range with a larger `limit`),
 * so the same record can come back more than once. To report each one once, a batch counts the
 * distinct records whose time lies in the range it covered; a record without an identifier often
 * still has its time. One without a usable time belongs to no range: each batch that receives it
 * reports it once.
 */
export interface UnplacedRecord {
  /** Tells one record from another: its identifier, or its whole text when it has none. */
  key: string;
  /** Its `trigger.at` where that is usable, ms; null when it has none. */
  atMs: number | null;
}

/** A half-open range `[from, to)` of ms; null = unbounded. */
export interface CoveredRange {
  from: number | null;
  to: number | null;
}

/** `value` (an `audits[]` element that could not be placed) as a batch counts it. */
export function unplacedRecord(value: unknown): UnplacedRecord {
  if (!isJsonObject(value)) return { key: `json:${JSON.stringify(value) ?? 'undefined'}`, atMs: null };
  const identifier = value['identifier'];
  const trigger = value['trigger'];
  const atMs = isJsonObject(trigger) ? instantOf(trigger['at']) : null;
  const key = typeof identifier === 'string' && identifier.trim() !== '' ? `id:${identifier}` : `json:${JSON.stringify(value)}`;
  return { key, atMs };
}

/** Port's parser and normaliser for `normalizePage`, which also note in `unplaced` each record they cannot place. */
export function notingUnplaced(unplaced: UnplacedRecord[] | null): {
  parse: (value: unknown) => PortAuditLogRecord;
  normalize: (parsed: PortAuditLogRecord, sourceId: string) => AuditEventModel;
} {
  const noteAndRethrow = (value: unknown, error: unknown): never => {
    unplaced?.push(unplacedRecord(value));
    throw error;
  };
  return {
    parse: (value) => {
      try {
        return parsePortAuditLog(value);
      } catch (error) {
        return noteAndRethrow(value, error);
      }
    },
    normalize: (parsed, sourceId) => {
      try {
        return normalizePortAuditLog(parsed, sourceId);
      } catch (error) {
        return noteAndRethrow(parsed.record, error);
      }
    },
  };
}

/** How many distinct records of `records` the batch that covered `range` reports. */
export function countUnplaced(records: readonly UnplacedRecord[], range: CoveredRange): number {
  const counted = new Set<string>();
  for (const record of records) {
    if (record.atMs === null || within(record.atMs, range)) counted.add(record.key);
  }
  return counted.size;
}

function within(ms: number, range: CoveredRange): boolean {
  return (range.from === null || ms >= range.from) && (range.to === null || ms < range.to);
}

/** What a newest-first batch covered: from where the next one starts up to where this one started. */
export function descCoverage(query: SourceQuery, resume: DescResume | null, next: DescResume | null): CoveredRange {
  return { from: next ? next.b : query.fromMs, to: resume ? resume.b : query.toMs };
}

/** What an oldest-first batch covered: from where it started up to where the next one starts. */
export function ascCoverage(query: SourceQuery, resume: AscResume | null, next: AscResume | null): CoveredRange {
  return { from: resume ? resume.a : query.fromMs, to: next ? next.a : query.toMs };
}
