import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ErrorCode, UpstreamError } from '../errors';
import type { RequestCounter } from '../http/upstream-client';
import { sanitizeForLog, type Logger } from '../logger';
import type { AuditEventModel } from '../models/audit-event';
import { isJsonObject } from '../models/json';

/**
 * A record that cannot be placed in the log at all: it has no usable time or no identity, so it
 * can be neither ordered nor told apart from others. Parsers throw this for such records and only
 * for them; everything else about a record is read leniently (`null` is the same as absent).
 */
export class UnusableRecord extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnusableRecord';
  }
}

/** The events of one upstream page, and how many of its records could not be used. */
export interface NormalizedPage {
  events: AuditEventModel[];
  /** Records of the page that could not be placed; they are logged with their raw ids. */
  unusable: number;
}

/** Longest stretch of normalising before other work gets a turn of the event loop. */
const SLICE_MS = 4;
/** Records normalised between two looks at the clock. */
const YIELD_CHECK_EVERY = 32;

/** Options of {@link normalizePage}. */
export interface NormalizePageOptions {
  /** Where unusable records are reported, with their raw ids. */
  logger: Logger;
  /** The vendor's id of a raw record, for the log; null when it has none. */
  rawIdOf?: (item: unknown) => string | null;
  /** The batch's tally, whose `unusableRecords` the page adds to. */
  counter?: RequestCounter;
}

/**
 * Normalises the records of a page under the record policy every vendor follows: a record that
 * cannot be placed ({@link UnusableRecord}, or a normaliser that cannot make sense of it) never
 * fails its page, so one odd record cannot make a window of events unavailable; and it is never
 * dropped silently either: the page reports how many it left out (the gateway shows that in the
 * source's status and in `extensions.warnings`), and the log names each by its raw id.
 * A page whose list itself is not a list is not a page: that still fails.
 */
export async function normalizePage<Raw>(
  sourceId: string,
  items: unknown,
  parse: (value: unknown) => Raw,
  normalize: (raw: Raw, sourceId: string) => AuditEventModel,
  options: NormalizePageOptions,
): Promise<NormalizedPage> {
  if (!Array.isArray(items)) {
    throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, sourceId, { logDetail: { reason: 'event list is not an array' } });
  }
  const events: AuditEventModel[] = [];
  const unusable: Array<{ id: string | null; reason: string }> = [];
  let sliceStart = performance.now();
  for (let index = 0; index < items.length; index += 1) {
    const item: unknown = items[index];
    // A page of thousands of records (a scan reads the largest pages) takes tens of milliseconds
    // to normalise: in slices, so that requests arriving meanwhile (a 503 that sheds them, a
    // health check) are not held up behind it.
    if (index % YIELD_CHECK_EVERY === YIELD_CHECK_EVERY - 1 && performance.now() - sliceStart >= SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
    try {
      events.push(normalize(parse(item), sourceId));
    } catch (error) {
      const id = (options.rawIdOf ?? defaultRawId)(item);
      unusable.push({ id: id === null ? null : sanitizeForLog(id, 128), reason: sanitizeForLog(error instanceof Error ? error.message : 'unreadable record', 120) });
    }
  }
  if (unusable.length > 0) {
    if (options.counter) options.counter.unusableRecords = (options.counter.unusableRecords ?? 0) + unusable.length;
    options.logger.warn(
      { source: sourceId, unusable: unusable.slice(0, 50), count: unusable.length, records: items.length },
      'records that cannot be placed were left out of the page (reported to the client as UNUSABLE_RECORDS)',
    );
  }
  return { events, unusable: unusable.length };
}

/** The `unusableRecords` of a batch result from its tally: absent when there were none. */
export function unusableOf(counter: RequestCounter): { unusableRecords?: number } {
  return counter.unusableRecords ? { unusableRecords: counter.unusableRecords } : {};
}

/**
 * One record looked up by id, under the same parsing: a record that cannot be placed is an
 * upstream fault here (the caller asked for exactly this record), never a silent null.
 */
export function normalizeRecord<Raw>(
  sourceId: string,
  item: unknown,
  parse: (value: unknown) => Raw,
  normalize: (raw: Raw, sourceId: string) => AuditEventModel,
): AuditEventModel {
  try {
    return normalize(parse(item), sourceId);
  } catch (error) {
    throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, sourceId, {
      logDetail: { reason: 'record cannot be placed', detail: error instanceof Error ? error.message : 'unreadable record' },
    });
  }
}

/** The usual id fields of audit records (`id`, `gid`, `identifier`), as text. */
function defaultRawId(item: unknown): string | null {
  if (!isJsonObject(item)) return null;
  for (const key of ['id', 'gid', 'identifier']) {
    const value = item[key];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return null;
}
