import { emptyRequestContext, type ActorModel, type ActorType, type AuditEventModel, type EventCategory, type RequestContextModel, type TargetModel } from '../../models/audit-event';
import { isJsonObject, type JsonObject, type JsonValue } from '../../models/json';
import type { RawAsanaActorType } from './wire-types';

/*
 * The simulator's ground truth, kept apart from `normalize.ts` on purpose: each event is built
 * from what the generator chose, by the mapping docs/vendors/asana.md states, restated here. Were
 * it computed by the normaliser, a fault in the normaliser would be in the ground truth too, and
 * every test comparing against it would pass. A record a test altered is read back into choices
 * under the record policy of the same notes ({@link readAsanaChoices}).
 */

/** Who acted; null parts are not recorded. */
export interface AsanaActorChoice {
  /** `actor_type` as written. */
  kind: string | null;
  gid: string | null;
  name: string | null;
  email: string | null;
  /** A `user` calling with a service account token. */
  serviceAccount: boolean;
}

/** What was acted on; null parts are not recorded. */
export interface AsanaResourceChoice {
  gid: string | null;
  type: string | null;
  name: string | null;
  subtype: string | null;
  email: string | null;
}

/** Where it came from; null parts are not recorded. */
export interface AsanaContextChoice {
  type: string | null;
  clientIp: string | null;
  userAgent: string | null;
  /** The OAuth app called through. */
  application: string | null;
  /** The automation rule that acted. */
  automation: string | null;
  /** The gid of the user who asked Asana support for the change. */
  requester: string | null;
}

/** What one placeable event says, as the generator chose it; null where it records nothing. */
export interface AsanaEventChoices {
  gid: string;
  atMs: number;
  eventType: string | null;
  /** `event_category` as written. */
  category: string | null;
  actor: AsanaActorChoice | null;
  resource: AsanaResourceChoice | null;
  context: AsanaContextChoice | null;
  details: JsonValue | null;
  /** The record as served, as JSON. */
  raw: JsonObject;
}

const ACTOR_TYPES: Record<RawAsanaActorType, ActorType> = {
  user: 'USER',
  // A person acting from outside the organization: the enum has no administrator kind.
  external_administrator: 'USER',
  asana: 'SYSTEM',
  asana_support: 'VENDOR_SUPPORT',
  anonymous: 'ANONYMOUS',
};

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

/** The action of an event without `event_type`, and the type of a resource without `resource_type`. */
const UNKNOWN = 'unknown';

/** The event the Asana datasource must make of an event that says `choices`. */
export function expectedAsanaEvent(choices: AsanaEventChoices, sourceId: string): AuditEventModel {
  const action = choices.eventType ?? UNKNOWN;
  return {
    sourceId,
    vendor: 'asana',
    sourceEventId: choices.gid,
    action,
    category: expectedCategory(choices.category, action),
    occurredAtMs: choices.atMs,
    actor: expectedActor(choices.actor, choices.context, sourceId),
    target: expectedTarget(choices.resource, sourceId),
    request: expectedRequest(choices.context),
    details: choices.details,
    repository: null,
    integrity: null,
    // Only the login outcomes say whether the action failed.
    failed: action === 'user_login_failed' ? true : action === 'user_login_succeeded' ? false : null,
    raw: choices.raw,
  };
}

/** The category table, else the event type's wording. */
function expectedCategory(category: string | null, action: string): EventCategory {
  const known = category === null ? undefined : CATEGORIES[category];
  if (known) return known;
  if (action.startsWith('user_login') || action.startsWith('user_logged')) return 'AUTHENTICATION';
  if (action.endsWith('_deleted') || action.includes('_export')) return 'DATA';
  if (['permission', 'role', 'privacy'].some((word) => action.includes(word))) return 'ACCESS';
  return 'OTHER';
}

function expectedActorType(actor: AsanaActorChoice | null): ActorType {
  if (actor?.kind === 'user' && actor.serviceAccount) return 'SERVICE_ACCOUNT';
  return actor?.kind != null && actor.kind in ACTOR_TYPES ? ACTOR_TYPES[actor.kind as RawAsanaActorType] : 'UNKNOWN';
}

function expectedActor(actor: AsanaActorChoice | null, context: AsanaContextChoice | null, sourceId: string): ActorModel {
  const model: ActorModel = { sourceId, sourceActorId: actor?.gid ?? null, type: expectedActorType(actor), name: actor?.name ?? null, email: actor?.email ?? null };
  if (context?.application) model.application = context.application;
  if (context?.automation) model.automation = context.automation;
  if (context?.requester) model.onBehalfOf = { sourceId, sourceActorId: context.requester, type: 'USER', name: null, email: null };
  return model;
}

/** A resource without a gid cannot be told apart from others: no target. */
function expectedTarget(resource: AsanaResourceChoice | null, sourceId: string): TargetModel | null {
  if (resource?.gid == null) return null;
  const target: TargetModel = { sourceId, sourceTargetId: resource.gid, type: resource.type ?? UNKNOWN, name: resource.name };
  if (resource.subtype !== null) target.subtype = resource.subtype;
  if (resource.email !== null) target.email = resource.email;
  return target;
}

function expectedRequest(context: AsanaContextChoice | null): RequestContextModel | null {
  if (context === null) return null;
  return { ...emptyRequestContext(), clientIp: context.clientIp, userAgent: context.userAgent, origin: context.type };
}

/** RFC 3339 with a zone, in either case. */
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The choices a record says, read under the record policy of docs/vendors/asana.md: null, absent,
 * empty text and a value of the wrong JSON type are all "not recorded"; null for a record that
 * cannot be placed (no gid, or no RFC 3339 `created_at` with a zone).
 */
export function readAsanaChoices(value: unknown): AsanaEventChoices | null {
  if (!isJsonObject(value)) return null;
  const gid = gidOf(value['gid']);
  const created = value['created_at'];
  const atMs = typeof created === 'string' && RFC_3339.test(created) ? Date.parse(created.toUpperCase()) : NaN;
  if (gid === null || Number.isNaN(atMs)) return null;
  const context = objectOf(value['context']);
  return {
    gid,
    atMs,
    eventType: textOf(value['event_type']),
    category: textOf(value['event_category']),
    actor: readActor(objectOf(value['actor']), context),
    resource: readResource(objectOf(value['resource'])),
    context: readContext(context),
    details: value['details'] ?? null,
    raw: value,
  };
}

function readActor(actor: JsonObject | null, context: JsonObject | null): AsanaActorChoice | null {
  if (actor === null) return null;
  const kind = textOf(actor['actor_type']);
  const serviceAccount = kind === 'user' && textOf(context?.['api_authentication_method']) === 'service_account';
  return { kind, gid: gidOf(actor['gid']), name: textOf(actor['name']), email: textOf(actor['email']), serviceAccount };
}

function readResource(resource: JsonObject | null): AsanaResourceChoice | null {
  if (resource === null) return null;
  const text = (key: string) => textOf(resource[key]);
  return { gid: gidOf(resource['gid']), type: text('resource_type'), name: text('name'), subtype: text('resource_subtype'), email: text('email') };
}

function readContext(context: JsonObject | null): AsanaContextChoice | null {
  if (context === null) return null;
  return {
    type: textOf(context['context_type']),
    clientIp: textOf(context['client_ip_address']),
    userAgent: textOf(context['user_agent']),
    application: textOf(context['oauth_app_name']),
    automation: textOf(context['rule_name']),
    requester: gidOf(context['on_behalf_of_user_id']),
  };
}

/** A gid: non-blank text, or a whole JSON number JSON parsing kept exact. */
function gidOf(value: JsonValue | undefined): string | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function textOf(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function objectOf(value: JsonValue | undefined): JsonObject | null {
  return isJsonObject(value) ? value : null;
}
