import type { AuditEventModel } from '../models/audit-event';
import type { Direction } from '../sources/data-source';

/** An event's place in the gateway's total order: (occurredAtMs, sourceId, sourceEventId). */
export type EventKey = readonly [occurredAtMs: number, sourceId: string, sourceEventId: string];

export function keyOf(event: AuditEventModel): EventKey {
  return [event.occurredAtMs, event.sourceId, event.sourceEventId];
}

/** Code-unit order, the same on every machine and locale (unlike `localeCompare`). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Negative when `a` comes before `b` when listing in `direction`. DESC is the exact reverse of
 * ASC, ties included, so that paging backwards retraces paging forwards.
 */
export function compareKeys(a: EventKey, b: EventKey, direction: Direction): number {
  const ascending = a[0] - b[0] || compareStrings(a[1], b[1]) || compareStrings(a[2], b[2]);
  return direction === 'ASC' ? ascending : -ascending;
}

/** {@link compareKeys} of two events, without building their keys (the merge's hot path). */
export function compareEvents(a: AuditEventModel, b: AuditEventModel, direction: Direction): number {
  const ascending =
    a.occurredAtMs - b.occurredAtMs || compareStrings(a.sourceId, b.sourceId) || compareStrings(a.sourceEventId, b.sourceEventId);
  return direction === 'ASC' ? ascending : -ascending;
}

/** {@link compareKeys} of an event and a key. */
export function compareEventToKey(event: AuditEventModel, key: EventKey, direction: Direction): number {
  const ascending = event.occurredAtMs - key[0] || compareStrings(event.sourceId, key[1]) || compareStrings(event.sourceEventId, key[2]);
  return direction === 'ASC' ? ascending : -ascending;
}

/** Order of two events of one source: time, then id. */
export function compareWithinSource(a: readonly [number, string], b: readonly [number, string], direction: Direction): number {
  const ascending = a[0] - b[0] || compareStrings(a[1], b[1]);
  return direction === 'ASC' ? ascending : -ascending;
}

export function reverse(direction: Direction): Direction {
  return direction === 'ASC' ? 'DESC' : 'ASC';
}
