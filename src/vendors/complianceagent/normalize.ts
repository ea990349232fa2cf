import { emptyRequestContext, type ActorType, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import { isJsonObject, type JsonObject } from '../../models/json';
import type { RawAuditLogEntry } from './wire-types';

/** A record that does not have the fields every ComplianceAgent log entry has. */
export class MalformedComplianceAgentRecord extends Error {}

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

/**
 * Narrows one log entry of either form; throws {@link MalformedComplianceAgentRecord} naming the
 * missing field, so that `normalizePage` refuses the page instead of dropping the record.
 */
export function parseComplianceAgentLog(value: unknown): RawAuditLogEntry & JsonObject {
  if (!isJsonObject(value)) throw new MalformedComplianceAgentRecord('entry is not an object');
  const entry = flattenComplianceAgentEntry(value);
  const { id, event_type: eventType, actor, timestamp } = entry;
  if (typeof id !== 'string' || id === '') throw new MalformedComplianceAgentRecord('id');
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) throw new MalformedComplianceAgentRecord('timestamp');
  if (typeof eventType !== 'string' || eventType === '') throw new MalformedComplianceAgentRecord('event_type');
  if (!isJsonObject(actor) || typeof actor['id'] !== 'string' || typeof actor['type'] !== 'string') throw new MalformedComplianceAgentRecord('actor');
  const resource = entry['resource'];
  if (resource !== undefined && resource !== null && (!isJsonObject(resource) || typeof resource['id'] !== 'string' || typeof resource['type'] !== 'string')) {
    throw new MalformedComplianceAgentRecord('resource');
  }
  const repository = entry['repository'];
  if (repository !== undefined && repository !== null && !isJsonObject(repository)) throw new MalformedComplianceAgentRecord('repository');
  const details = entry['details'];
  if (details !== undefined && details !== null && !isJsonObject(details)) throw new MalformedComplianceAgentRecord('details');
  return entry as RawAuditLogEntry & JsonObject;
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

/** A parsed entry (either form) as an {@link AuditEventModel}; `raw` is the list form. */
export function normalizeComplianceAgentLog(raw: RawAuditLogEntry & JsonObject, sourceId: string): AuditEventModel {
  const request = emptyRequestContext();
  request.clientIp = stringOrNull(raw.ip_address);
  request.userAgent = stringOrNull(raw.user_agent);
  request.sessionId = stringOrNull(raw.session_id);
  request.requestId = stringOrNull(raw.request_id);
  const resource = raw.resource ?? null;
  const json: JsonObject = raw;
  const details: JsonObject = isJsonObject(json['details']) ? { ...json['details'] } : {};
  const repository = raw.repository ?? null;
  const integrityHash = stringOrNull(raw.hash);
  const previousHash = stringOrNull(raw.previous_hash);
  return {
    sourceId,
    vendor: 'complianceagent',
    sourceEventId: raw.id,
    action: raw.event_type,
    category: complianceAgentCategory(raw.event_type),
    occurredAtMs: Date.parse(raw.timestamp),
    actor: {
      sourceId,
      sourceActorId: raw.actor.id,
      type: ACTOR_TYPES[raw.actor.type] ?? 'UNKNOWN',
      name: stringOrNull(raw.actor.name),
      email: stringOrNull(raw.actor.email),
    },
    target: resource ? { sourceId, sourceTargetId: resource.id, type: resource.type, name: stringOrNull(resource.name) } : null,
    request,
    repository: repository && typeof repository.id === 'string' && repository.id !== '' ? { sourceRepositoryId: repository.id, name: stringOrNull(repository.name) } : null,
    details: Object.keys(details).length > 0 ? details : null,
    integrity: integrityHash !== null || previousHash !== null ? { hash: integrityHash, previousHash } : null,
    failed: null,
    raw,
  };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
