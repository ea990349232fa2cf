import { ErrorCode, UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';

/**
 * Normalises every record of a page, or refuses the whole page: a record that cannot be read is
 * never silently dropped (the client would see a gap it cannot detect). The error counts the bad
 * records; the log gets the first reason.
 */
export function normalizePage<Raw>(
  sourceId: string,
  items: unknown,
  parse: (value: unknown) => Raw,
  normalize: (raw: Raw, sourceId: string) => AuditEventModel,
): AuditEventModel[] {
  if (!Array.isArray(items)) {
    throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, sourceId, { logDetail: { reason: 'event list is not an array' } });
  }
  const events: AuditEventModel[] = [];
  let bad = 0;
  let firstReason: string | undefined;
  for (const item of items) {
    try {
      events.push(normalize(parse(item), sourceId));
    } catch (error) {
      bad += 1;
      firstReason ??= error instanceof Error ? error.message : 'unreadable record';
    }
  }
  if (bad > 0) {
    throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, sourceId, {
      logDetail: { reason: 'malformed records', badRecords: bad, records: items.length, firstReason },
    });
  }
  return events;
}
