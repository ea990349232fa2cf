import { canonicalJson } from '../models/canonical-json';
import type { ExportedEvent } from './event-record';

/** A column of `events.csv`: its header and how it reads an exported event. */
interface Column {
  name: string;
  value(event: ExportedEvent): string | number | boolean | null;
}

/** The columns of `events.csv`, in order: the flat parts of an event, `details` as canonical JSON. */
const COLUMNS: readonly Column[] = [
  { name: 'id', value: (e) => e.id },
  { name: 'occurred_at', value: (e) => e.occurredAt },
  { name: 'source_id', value: (e) => e.sourceId },
  { name: 'vendor', value: (e) => e.vendor },
  { name: 'source_event_id', value: (e) => e.sourceEventId },
  { name: 'action', value: (e) => e.action },
  { name: 'category', value: (e) => e.category },
  { name: 'failed', value: (e) => e.failed },
  { name: 'actor_type', value: (e) => e.actor.type },
  { name: 'actor_id', value: (e) => e.actor.sourceActorId },
  { name: 'actor_name', value: (e) => e.actor.name },
  { name: 'actor_email', value: (e) => e.actor.email },
  { name: 'actor_application', value: (e) => e.actor.application },
  { name: 'on_behalf_of_actor_id', value: (e) => e.actor.onBehalfOf?.sourceActorId ?? null },
  { name: 'target_type', value: (e) => e.target?.type ?? null },
  { name: 'target_id', value: (e) => e.target?.sourceTargetId ?? null },
  { name: 'target_name', value: (e) => e.target?.name ?? null },
  { name: 'client_ip', value: (e) => e.request?.clientIp ?? null },
  { name: 'user_agent', value: (e) => e.request?.userAgent ?? null },
  { name: 'http_method', value: (e) => e.request?.httpMethod ?? null },
  { name: 'path', value: (e) => e.request?.path ?? null },
  { name: 'status_code', value: (e) => e.request?.statusCode ?? null },
  { name: 'session_id', value: (e) => e.request?.sessionId ?? null },
  { name: 'request_id', value: (e) => e.request?.requestId ?? null },
  { name: 'trace_id', value: (e) => e.request?.traceId ?? null },
  { name: 'repository_id', value: (e) => e.repository?.sourceRepositoryId ?? null },
  { name: 'details', value: (e) => (e.details === null ? null : canonicalJson(e.details)) },
  { name: 'chain_hash', value: () => null },
];

/** Records end in CRLF, as RFC 4180 has them. */
export const CSV_RECORD_END = '\r\n';

/** The header record of `events.csv`, with its CRLF. */
export const CSV_HEADER = COLUMNS.map((column) => column.name).join(',') + CSV_RECORD_END;

/**
 * Characters that make a spreadsheet read a cell as a formula (or, for TAB and CR, hide one
 * after them): a text cell starting with one gets a leading `'`, the OWASP advice against CSV
 * injection. Only the CSV is changed so; `events.jsonl` keeps every value as recorded.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
/** What makes RFC 4180 quote a field. */
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: empty for null, numbers and booleans as JSON writes them, text defused and quoted as needed. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The record of one event, with its CRLF. `chainHash` is the event's link in `events.jsonl`, so
 * that each row names the line it was made from.
 */
export function csvRecord(event: ExportedEvent, chainHash: string): string {
  let record = '';
  for (let i = 0; i < COLUMNS.length - 1; i += 1) record += `${csvField(COLUMNS[i]!.value(event))},`;
  return record + chainHash + CSV_RECORD_END;
}
