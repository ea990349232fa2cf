import { emptyRequestContext, type ActorType, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import { isJsonObject, type JsonObject, type JsonValue } from '../../models/json';
import { UnusableRecord } from '../../sources/normalize-page';

/**
 * One `items[]` entry read under the record policy: the entry's identity and time, and every other
 * part null when absent, null, or not of its documented type. The raw entry is kept as received.
 */
export interface ParsedNirvanaAuditLog {
  id: string;
  occurredAtMs: number;
  /** Absent in entries written before SDK v1.58. */
  action: string | null;
  actor: ParsedNirvanaActor;
  /** Null unless the entry names both the resource's id and its type. */
  target: { id: string; type: string } | null;
  clientIp: string | null;
  userAgent: string | null;
  method: string | null;
  path: string | null;
  statusCode: number | null;
  raw: JsonObject;
}

/** `actor` read leniently: an entry without one is still placed, with an actor the gateway cannot name. */
export interface ParsedNirvanaActor {
  id: string | null;
  /** Absent in entries written before SDK v1.69, and nullable in the TypeScript SDK since. */
  name: string | null;
  /** The wire kind (`user`, `api_key`), as sent. */
  type: string | null;
}

/**
 * Reads one `items[]` entry. Throws {@link UnusableRecord} only for an entry that cannot be placed
 * in the log: one that is not an object, has no `id` (its identity: the gateway's order and
 * global ids rest on it), or no `created_at` that is an RFC 3339 instant. The actor's id is not
 * identity: an entry without it is an event by an actor the gateway cannot name.
 */
export function parseNirvanaAuditLog(value: unknown): ParsedNirvanaAuditLog {
  if (!isJsonObject(value)) throw new UnusableRecord('entry is not an object');
  const id = nonEmptyText(value['id']);
  if (id === null) throw new UnusableRecord('no id');
  const occurredAtMs = rfc3339Ms(value['created_at']);
  if (occurredAtMs === null) throw new UnusableRecord('no usable created_at');
  return {
    id,
    occurredAtMs,
    action: nonEmptyText(value['action']),
    actor: parseActor(value['actor']),
    target: parseTarget(value['target']),
    clientIp: text(value['client_ip']),
    userAgent: text(value['user_agent']),
    method: text(value['method']),
    path: text(value['path']),
    statusCode: statusCode(value['status_code']),
    raw: value,
  };
}

const ACTOR_TYPES = new Map<string, ActorType>([
  ['user', 'USER'],
  ['api_key', 'API_KEY'],
]);

/** The normalised category of a Nirvana action (`<resource>.<verb>`) and HTTP method. */
export function nirvanaCategory(action: string | null, method: string | null): EventCategory {
  const dot = action === null ? -1 : action.indexOf('.');
  const resource = action === null ? '' : dot === -1 ? action : action.slice(0, dot);
  if (resource === 'api_key' || resource === 'ssh_key') return 'ACCESS';
  if (resource === 'user' || resource === 'project' || resource === 'organization') return 'ADMIN';
  if (resource === 'firewall_rule') return 'SECURITY';
  if (method?.toUpperCase() === 'GET') return 'DATA';
  if (action) return 'CONFIGURATION';
  return 'OTHER';
}

/** A parsed Nirvana entry as an {@link AuditEventModel}. */
export function normalizeNirvanaAuditLog(entry: ParsedNirvanaAuditLog, sourceId: string): AuditEventModel {
  const request = emptyRequestContext();
  request.clientIp = entry.clientIp;
  request.userAgent = entry.userAgent;
  request.httpMethod = entry.method;
  request.path = entry.path;
  request.statusCode = entry.statusCode;
  return {
    sourceId,
    vendor: 'nirvana',
    sourceEventId: entry.id,
    action: actionOf(entry),
    category: nirvanaCategory(entry.action, entry.method),
    occurredAtMs: entry.occurredAtMs,
    actor: {
      sourceId,
      sourceActorId: entry.actor.id,
      type: (entry.actor.type !== null && ACTOR_TYPES.get(entry.actor.type)) || 'UNKNOWN',
      name: entry.actor.name,
      email: null,
    },
    target: entry.target ? { sourceId, sourceTargetId: entry.target.id, type: entry.target.type, name: null } : null,
    request,
    details: null,
    repository: null,
    integrity: null,
    failed: entry.statusCode === null ? null : entry.statusCode >= 400,
    raw: entry.raw,
  };
}

/**
 * The recorded action; for entries older than `action` (SDK v1.58), the request that was audited
 * (`POST /v1/compute/vms`), else `unknown`. `push-down.ts` never sends such a name upstream.
 */
function actionOf(entry: ParsedNirvanaAuditLog): string {
  if (entry.action !== null) return entry.action;
  return entry.method && entry.path ? `${entry.method.toUpperCase()} ${entry.path}` : 'unknown';
}

function parseActor(value: JsonValue | undefined): ParsedNirvanaActor {
  if (!isJsonObject(value)) return { id: null, name: null, type: null };
  return { id: nonEmptyText(value['id']), name: text(value['name']), type: text(value['type']) };
}

/** A target is kept only whole: a made-up type could be sent upstream as `target_type` and miss the entry there. */
function parseTarget(value: JsonValue | undefined): { id: string; type: string } | null {
  if (!isJsonObject(value)) return null;
  const id = nonEmptyText(value['id']);
  const type = nonEmptyText(value['type']);
  return id !== null && type !== null ? { id, type } : null;
}

function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function nonEmptyText(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function statusCode(value: JsonValue | undefined): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 3339 date-time in ms (digits beyond the millisecond truncated); null for anything else.
 * Stricter than `Date.parse`, which reads a time without an offset as local time and rolls
 * 30 February over into March: either would place the entry at an instant it does not name.
 */
export function rfc3339Ms(value: JsonValue | undefined): number | null {
  if (typeof value !== 'string') return null;
  const match = RFC3339.exec(value);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
