import { emptyRequestContext, type ActorType, type AuditEventModel, type EventCategory, type TargetModel } from '../../models/audit-event';
import { isJsonObject, type JsonObject } from '../../models/json';
import type { RawAsanaActorType, RawAsanaAuditLogEvent } from './wire-types';

/** A record that does not have the fields every Asana audit log event has. */
export class MalformedAsanaRecord extends Error {}

/**
 * Narrows one `data[]` element; throws {@link MalformedAsanaRecord} naming the first bad field, so
 * that `normalizePage` refuses the whole page rather than dropping the record.
 */
export function parseAsanaAuditLogEvent(value: unknown): RawAsanaAuditLogEvent & JsonObject {
  if (!isJsonObject(value)) throw new MalformedAsanaRecord('event is not an object');
  const { gid, created_at: createdAt, event_type: eventType, actor, resource, context, details } = value;
  if (typeof gid !== 'string' || gid === '') throw new MalformedAsanaRecord('gid');
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new MalformedAsanaRecord('created_at');
  if (typeof eventType !== 'string' || eventType === '') throw new MalformedAsanaRecord('event_type');
  if (!isJsonObject(actor) || typeof actor['actor_type'] !== 'string') throw new MalformedAsanaRecord('actor.actor_type');
  if (resource !== undefined && resource !== null) {
    if (!isJsonObject(resource) || typeof resource['gid'] !== 'string' || typeof resource['resource_type'] !== 'string') {
      throw new MalformedAsanaRecord('resource');
    }
  }
  if (context !== undefined && context !== null && !isJsonObject(context)) throw new MalformedAsanaRecord('context');
  if (details !== undefined && details !== null && !isJsonObject(details)) throw new MalformedAsanaRecord('details');
  return value as RawAsanaAuditLogEvent & JsonObject;
}

/**
 * `actor.actor_type` as an {@link ActorType}.
 * - `external_administrator` (an administrator acting from outside the organization) is a
 *   person, so USER; the enum has no ADMIN kind and the raw type stays in `raw`.
 * - A `user` that called the API with a service account token (`context.api_authentication_method`
 *   = `service_account`) is that service account: SERVICE_ACCOUNT. Only service accounts can hold
 *   such tokens, so this never relabels a person.
 * - Values Asana may add later: UNKNOWN.
 */
export function asanaActorType(actorType: string, authMethod: string | undefined): ActorType {
  switch (actorType as RawAsanaActorType) {
    case 'user':
      return authMethod === 'service_account' ? 'SERVICE_ACCOUNT' : 'USER';
    case 'external_administrator':
      return 'USER';
    case 'asana':
      return 'SYSTEM';
    case 'asana_support':
      return 'VENDOR_SUPPORT';
    case 'anonymous':
      return 'ANONYMOUS';
    default:
      return 'UNKNOWN';
  }
}

/** `event_category` (Asana's grouping of event types) as an {@link EventCategory}. */
const CATEGORIES: Record<string, EventCategory> = {
  logins: 'AUTHENTICATION',
  user_updates: 'ADMIN',
  roles: 'ACCESS',
  permissions: 'ACCESS',
  access_control: 'ACCESS',
  sharing: 'ACCESS',
  admin_settings: 'CONFIGURATION',
  apps: 'CONFIGURATION',
  deletion: 'DATA',
  content_export: 'DATA',
  data_export: 'DATA',
  security: 'SECURITY',
  compliance: 'COMPLIANCE',
};

/** The normalised category; falls back on the event type's wording when the category is new or absent. */
export function asanaCategory(eventCategory: string | undefined, eventType: string): EventCategory {
  const known = eventCategory === undefined ? undefined : CATEGORIES[eventCategory];
  if (known) return known;
  if (/^user_log(in|ged)_/.test(eventType)) return 'AUTHENTICATION';
  if (/_deleted$|_export/.test(eventType)) return 'DATA';
  if (/permission|role|privacy/.test(eventType)) return 'ACCESS';
  return 'OTHER';
}

/** Login outcomes are the only events whose type says whether the action failed. */
function failedOf(eventType: string): boolean | null {
  if (eventType === 'user_login_failed') return true;
  if (eventType === 'user_login_succeeded') return false;
  return null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A parsed Asana record as an {@link AuditEventModel}; `raw` is the record exactly as received. */
export function normalizeAsanaAuditLogEvent(raw: RawAsanaAuditLogEvent & JsonObject, sourceId: string): AuditEventModel {
  const context = raw.context ?? {};
  const request = emptyRequestContext();
  request.clientIp = stringOrNull(context.client_ip_address);
  request.userAgent = stringOrNull(context.user_agent);
  request.origin = stringOrNull(context.context_type);

  const resource = raw.resource;
  const target: TargetModel | null = resource
    ? { sourceId, sourceTargetId: resource.gid, type: resource.resource_type, name: stringOrNull(resource.name) }
    : null;

  return {
    sourceId,
    vendor: 'asana',
    sourceEventId: raw.gid,
    action: raw.event_type,
    category: asanaCategory(raw.event_category, raw.event_type),
    occurredAtMs: Date.parse(raw.created_at),
    actor: {
      sourceId,
      sourceActorId: stringOrNull(raw.actor.gid),
      type: asanaActorType(raw.actor.actor_type, context.api_authentication_method),
      name: stringOrNull(raw.actor.name),
      email: stringOrNull(raw.actor.email),
    },
    target,
    request,
    details: isJsonObject(raw['details']) ? raw['details'] : null,
    repository: null,
    integrity: null,
    failed: failedOf(raw.event_type),
    raw,
  };
}
