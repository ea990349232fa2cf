import { emptyRequestContext, type ActorModel, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import { isJsonObject, type JsonObject } from '../../models/json';
import type { RawPortAuditLog } from './wire-types';

/** A record that lacks a field every Port audit log has, or has one of the wrong type. */
export class MalformedPortRecord extends Error {}

/** Narrows one `audits[]` element; throws {@link MalformedPortRecord} naming the bad field. */
export function parsePortAuditLog(value: unknown): RawPortAuditLog & JsonObject {
  if (!isJsonObject(value)) throw new MalformedPortRecord('record is not an object');
  const { identifier, trigger } = value;
  if (typeof identifier !== 'string' || identifier === '') throw new MalformedPortRecord('identifier');
  if (!isJsonObject(trigger)) throw new MalformedPortRecord('trigger');
  const at = trigger['at'];
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new MalformedPortRecord('trigger.at');
  if (trigger['by'] !== undefined && !isJsonObject(trigger['by'])) throw new MalformedPortRecord('trigger.by');
  for (const key of ['action', 'resourceType', 'status', 'message'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') throw new MalformedPortRecord(key);
  }
  for (const key of ['context', 'diff', 'additionalData'] as const) {
    if (value[key] !== undefined && value[key] !== null && !isJsonObject(value[key])) throw new MalformedPortRecord(key);
  }
  return value as RawPortAuditLog & JsonObject;
}

/** Past participles of the operations the `action` filter knows; other operations are lower-cased as they are. */
const VERBS: Record<string, string> = { CREATE: 'created', UPDATE: 'updated', DELETE: 'deleted' };

/** The gateway action name, `<resourceType>.<created|updated|deleted>` like the seed's `entity.created`. */
export function portActionName(resourceType: string | undefined, action: string | undefined): string {
  const resource = resourceType || 'unknown';
  const verb = action ? (VERBS[action] ?? action.toLowerCase().replace(/[^a-z0-9]+/g, '_')) : 'unknown';
  return `${resource}.${verb}`;
}

/**
 * Categories by resource type. Runs count as DATA: a run is a record users create by invoking an
 * action (like an entity it lives in the catalog and usually changes entities), not a change to
 * how Port is set up; blueprints, actions, scorecards, webhooks and integrations are that set-up.
 */
const CATEGORIES: Record<string, EventCategory> = {
  entity: 'DATA',
  run: 'DATA',
  blueprint: 'CONFIGURATION',
  action: 'CONFIGURATION',
  scorecard: 'CONFIGURATION',
  webhook: 'CONFIGURATION',
  integration: 'CONFIGURATION',
};

/** Context keys that hold the id of the record's own resource, by resource type, in order of preference. */
const TARGET_KEYS: Record<string, readonly string[]> = {
  entity: ['entity', 'entityId'],
  blueprint: ['blueprint', 'blueprintId'],
  run: ['runId'],
  action: ['action', 'actionId'],
  scorecard: ['scorecard', 'scorecardId'],
  webhook: ['webhookId'],
  integration: ['installationId', 'integration'],
};

/**
 * Who acted: `…@clients` is an OAuth client-credentials caller (an integration or a CI job),
 * which the gateway calls a service account; any other id is a person; no id is Port itself
 * (automations, timers).
 */
export function portActor(userId: string | undefined, sourceId: string): ActorModel {
  if (!userId) return { sourceId, sourceActorId: null, type: 'SYSTEM', name: null, email: null };
  return { sourceId, sourceActorId: userId, type: userId.endsWith('@clients') ? 'SERVICE_ACCOUNT' : 'USER', name: null, email: null };
}

/** A parsed Port record as an {@link AuditEventModel}; the record itself is kept in `raw`. */
export function normalizePortAuditLog(raw: RawPortAuditLog & JsonObject, sourceId: string): AuditEventModel {
  const resourceType = raw.resourceType;
  const context = isJsonObject(raw['context']) ? raw['context'] : {};
  const request = emptyRequestContext();
  request.origin = typeof raw.trigger.origin === 'string' ? raw.trigger.origin : null;
  return {
    sourceId,
    vendor: 'port',
    sourceEventId: raw.identifier,
    action: portActionName(resourceType, raw.action),
    category: (resourceType && CATEGORIES[resourceType]) || 'OTHER',
    occurredAtMs: Date.parse(raw.trigger.at),
    actor: portActor(raw.trigger.by?.userId, sourceId),
    target: targetOf(resourceType, context, raw['diff'], sourceId),
    request,
    details: detailsOf(raw),
    repository: null,
    integrity: null,
    failed: raw.status === 'FAILURE' ? true : raw.status === 'SUCCESS' ? false : null,
    raw,
  };
}

function targetOf(resourceType: string | undefined, context: JsonObject, diff: unknown, sourceId: string): AuditEventModel['target'] {
  if (!resourceType) return null;
  const id = (TARGET_KEYS[resourceType] ?? []).map((key) => context[key]).find((value) => typeof value === 'string' && value !== '');
  if (typeof id !== 'string') return null;
  return { sourceId, sourceTargetId: id, type: resourceType, name: titleOf(diff) };
}

/** The resource's title from its snapshot after (or, on DELETE, before) the change. */
function titleOf(diff: unknown): string | null {
  if (!isJsonObject(diff)) return null;
  for (const side of [diff['after'], diff['before']]) {
    if (isJsonObject(side) && typeof side['title'] === 'string') return side['title'];
  }
  return null;
}

function detailsOf(raw: JsonObject): JsonObject | null {
  const details: JsonObject = {};
  for (const key of ['diff', 'context', 'message', 'additionalData'] as const) {
    const value = raw[key];
    if (value !== undefined && value !== null) details[key] = value;
  }
  return Object.keys(details).length > 0 ? details : null;
}
