import { emptyRequestContext, type ActorType, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import { isJsonObject, type JsonObject } from '../../models/json';
import type { RawNirvanaAuditLog } from './wire-types';

/** A record that does not have the fields every Nirvana audit log has. */
export class MalformedNirvanaRecord extends Error {}

/** Narrows one `items[]` element; throws {@link MalformedNirvanaRecord} naming the missing field. */
export function parseNirvanaAuditLog(value: unknown): RawNirvanaAuditLog & JsonObject {
  if (!isJsonObject(value)) throw new MalformedNirvanaRecord('item is not an object');
  const { id, actor, created_at: createdAt } = value;
  if (typeof id !== 'string' || id === '') throw new MalformedNirvanaRecord('id');
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new MalformedNirvanaRecord('created_at');
  if (!isJsonObject(actor) || typeof actor['id'] !== 'string') throw new MalformedNirvanaRecord('actor.id');
  if (value['target'] !== undefined && value['target'] !== null) {
    const target = value['target'];
    if (!isJsonObject(target) || typeof target['id'] !== 'string' || typeof target['type'] !== 'string') {
      throw new MalformedNirvanaRecord('target');
    }
  }
  return value as RawNirvanaAuditLog & JsonObject;
}

const ACTOR_TYPES: Record<string, ActorType> = { user: 'USER', api_key: 'API_KEY' };

/** The normalised category of a Nirvana action (`<resource>.<verb>`) and HTTP method. */
export function nirvanaCategory(action: string | undefined, method: string | undefined): EventCategory {
  const resource = action?.split('.')[0] ?? '';
  if (resource === 'api_key' || resource === 'ssh_key') return 'ACCESS';
  if (resource === 'user' || resource === 'project' || resource === 'organization') return 'ADMIN';
  if (resource === 'firewall_rule') return 'SECURITY';
  if (method?.toUpperCase() === 'GET') return 'DATA';
  if (action) return 'CONFIGURATION';
  return 'OTHER';
}

/** A parsed Nirvana record as an {@link AuditEventModel}. */
export function normalizeNirvanaAuditLog(raw: RawNirvanaAuditLog & JsonObject, sourceId: string): AuditEventModel {
  const action = raw.action ?? (raw.method && raw.path ? `${raw.method.toUpperCase()} ${raw.path}` : 'unknown');
  const request = emptyRequestContext();
  request.clientIp = raw.client_ip ?? null;
  request.userAgent = raw.user_agent ?? null;
  request.httpMethod = raw.method ?? null;
  request.path = raw.path ?? null;
  request.statusCode = typeof raw.status_code === 'number' ? raw.status_code : null;
  return {
    sourceId,
    vendor: 'nirvana',
    sourceEventId: raw.id,
    action,
    category: nirvanaCategory(raw.action, raw.method),
    occurredAtMs: Date.parse(raw.created_at),
    actor: {
      sourceId,
      sourceActorId: raw.actor.id,
      type: ACTOR_TYPES[raw.actor.type] ?? 'UNKNOWN',
      name: raw.actor.name ?? null,
      email: null,
    },
    target: raw.target ? { sourceId, sourceTargetId: raw.target.id, type: raw.target.type, name: null } : null,
    request,
    details: null,
    repository: null,
    integrity: null,
    failed: typeof raw.status_code === 'number' ? raw.status_code >= 400 : null,
    raw,
  };
}
