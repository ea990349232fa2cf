import {
  emptyRequestContext,
  type ActorModel,
  type ActorType,
  type AuditEventModel,
  type EventCategory,
  type IntegrityModel,
  type RepositoryModel,
  type TargetModel,
} from '../../models/audit-event';
import { isJsonObject, type JsonObject, type JsonValue } from '../../models/json';
import { UnusableRecord } from '../../sources/normalize-page';
import type { RawAuditLogEntry } from './wire-types';

/** The request-metadata keys that the single-entry form nests under `metadata`. */
const METADATA_KEYS = ['ip_address', 'user_agent', 'session_id', 'request_id'] as const;

/**
 * The single-entry form (`GET /audit/logs/{id}`) in the list form: `metadata.*` lifted to the top
 * level and `metadata` removed. Both endpoints then give one shape, which is also the shape the
 * hash covers, so `raw` of an event from either endpoint verifies with the hash-chain module.
 * A value that is already in the list form is returned unchanged.
 */
export function flattenComplianceAgentEntry(value: JsonObject): JsonObject {
  const metadata = value['metadata'];
  if (!isJsonObject(metadata)) return value;
  const { metadata: _moved, ...rest } = value;
  const flat: JsonObject = { ...rest };
  for (const key of METADATA_KEYS) {
    const item = metadata[key];
    if (item !== undefined && flat[key] === undefined) flat[key] = item;
  }
  return flat;
}

/** Normalised action of an entry without an `event_type`. */
export const UNKNOWN_EVENT_TYPE = 'unknown';

/**
 * An entry as received, in the list form: the documented fields may hold anything JSON can (the
 * type makes every read go through a check), and the object is kept as sent.
 */
export type ReceivedLogEntry = { readonly [K in keyof RawAuditLogEntry]?: JsonValue } & JsonObject & { readonly id: string; readonly timestamp: string };

/**
 * Why an entry (either form) cannot be placed, or null when it can: it needs an `id` (its
 * identity, and what a lookup asks for) and a readable `timestamp` (order and windows). Shared
 * with the hash-chain check, which reports such an entry instead of skipping it.
 */
export function unplaceableReason(value: unknown): string | null {
  if (!isJsonObject(value)) return 'entry is not an object';
  const { id, timestamp } = value;
  if (typeof id !== 'string' || id === '') return 'no id';
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) return 'no readable timestamp';
  return null;
}

/**
 * Narrows one log entry of either form. Throws {@link UnusableRecord} only for an entry that
 * cannot be placed ({@link unplaceableReason}); every other field is read leniently by the
 * normaliser.
 */
export function parseComplianceAgentLog(value: unknown): ReceivedLogEntry {
  const reason = unplaceableReason(value);
  if (reason !== null) throw new UnusableRecord(reason);
  return flattenComplianceAgentEntry(value as JsonObject) as ReceivedLogEntry;
}

/** The normalised category of an event type (`<area>.<verb>`). */
export function complianceAgentCategory(eventType: string): EventCategory {
  const area = eventType.split('.')[0];
  switch (area) {
    case 'scan':
    case 'issue':
    case 'fix':
      return 'COMPLIANCE';
    case 'config':
      return 'CONFIGURATION';
    case 'access':
      return 'ACCESS';
    default:
      return 'OTHER';
  }
}

const ACTOR_TYPES: Record<string, ActorType> = { user: 'USER', system: 'SYSTEM' };

/**
 * The entry's actor. An entry without one, or with one of an unknown kind, still happened: its
 * actor is UNKNOWN. An actor without an id keeps the kind the vendor gives it (a system actor
 * often has none).
 */
function actorOf(value: JsonValue | undefined, sourceId: string): ActorModel {
  const actor = isJsonObject(value) ? value : {};
  const type = text(actor['type']);
  return {
    sourceId,
    sourceActorId: text(actor['id']),
    type: (type !== null ? ACTOR_TYPES[type] : undefined) ?? 'UNKNOWN',
    name: text(actor['name']),
    email: text(actor['email']),
  };
}

/** The entry's resource, when it names one by id; a resource of no stated type is `unknown`. */
function targetOf(value: JsonValue | undefined, sourceId: string): TargetModel | null {
  if (!isJsonObject(value)) return null;
  const id = text(value['id']);
  return id === null ? null : { sourceId, sourceTargetId: id, type: text(value['type']) ?? 'unknown', name: text(value['name']) };
}

function repositoryOf(value: JsonValue | undefined): RepositoryModel | null {
  if (!isJsonObject(value)) return null;
  const id = text(value['id']);
  return id === null ? null : { sourceRepositoryId: id, name: text(value['name']) };
}

/** `details` as sent, when it says anything: an empty object or `null` is no details. */
function detailsOf(value: JsonValue | undefined): JsonValue | null {
  if (value === undefined || value === null) return null;
  if (isJsonObject(value)) return Object.keys(value).length > 0 ? { ...value } : null;
  return value;
}

function integrityOf(raw: ReceivedLogEntry): IntegrityModel | null {
  const hash = text(raw.hash);
  const previousHash = text(raw.previous_hash);
  return hash !== null || previousHash !== null ? { hash, previousHash } : null;
}

/** A parsed entry (either form) as an {@link AuditEventModel}; `raw` is the list form. */
export function normalizeComplianceAgentLog(raw: ReceivedLogEntry, sourceId: string): AuditEventModel {
  const request = emptyRequestContext();
  request.clientIp = text(raw.ip_address);
  request.userAgent = text(raw.user_agent);
  request.sessionId = text(raw.session_id);
  request.requestId = text(raw.request_id);
  const eventType = text(raw.event_type) ?? UNKNOWN_EVENT_TYPE;
  return {
    sourceId,
    vendor: 'complianceagent',
    sourceEventId: raw.id,
    action: eventType,
    category: complianceAgentCategory(eventType),
    occurredAtMs: Date.parse(raw.timestamp),
    actor: actorOf(raw.actor, sourceId),
    target: targetOf(raw.resource, sourceId),
    request,
    repository: repositoryOf(raw.repository),
    details: detailsOf(raw.details),
    integrity: integrityOf(raw),
    failed: null,
    raw,
  };
}

/** A field's text; null for absent, `null`, empty, or not text (an entry is read leniently). */
function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
