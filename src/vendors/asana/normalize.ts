import {
  emptyRequestContext,
  type ActorModel,
  type ActorType,
  type AuditEventModel,
  type EventCategory,
  type RequestContextModel,
  type TargetModel,
} from '../../models/audit-event';
import { isJsonObject, type JsonObject, type JsonValue } from '../../models/json';
import { UnusableRecord } from '../../sources/normalize-page';
import type { RawAsanaActor, RawAsanaActorType, RawAsanaAuditLogEvent, RawAsanaContext, RawAsanaResource } from './wire-types';

/*
 * Record policy for Asana. The OpenAPI spec marks no property of `AuditLogEvent` as required, so
 * only what the gateway cannot do without makes a record unusable: its `gid` (identity) and a
 * `created_at` that is an RFC 3339 date-time with a zone (its place in time; a time without a
 * zone would depend on the host's time zone). Every other part is read for what it is worth:
 * `null`, absent and a value of the wrong JSON type are all "not recorded", and the record stays
 * whole in `raw`.
 */

/** The normalised action of an event without `event_type`; never sent upstream as a filter. */
export const UNKNOWN_EVENT_TYPE = 'unknown';

/** The target type of a resource that has a gid but no `resource_type`. */
export const UNKNOWN_RESOURCE_TYPE = 'unknown';

/** An event that can be placed: its identity and time, and the record everything else is read from. */
export interface ParsedAsanaEvent {
  gid: string;
  occurredAtMs: number;
  /** The record exactly as received. */
  record: JsonObject;
}

/** A wire type's fields as whatever JSON actually arrived, to be narrowed one by one. */
type Lenient<T> = { readonly [K in keyof T]?: JsonValue };

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks that one `data[]` element can be placed; throws {@link UnusableRecord} when it has no
 * gid or no usable `created_at`, and for nothing else.
 */
export function parseAsanaAuditLogEvent(value: unknown): ParsedAsanaEvent {
  if (!isJsonObject(value)) throw new UnusableRecord('event is not an object');
  const gid = idOf(value['gid']);
  if (gid === null) throw new UnusableRecord('no gid');
  const occurredAtMs = asanaTimeOf(value['created_at']);
  if (occurredAtMs === null) throw new UnusableRecord('no usable created_at');
  return { gid, occurredAtMs, record: value };
}

/**
 * Milliseconds of an RFC 3339 date-time (any zone; lower-case `t`/`z` allowed), or null. Finer
 * fractions are truncated, which keeps `start_at`/`end_at` on whole milliseconds exact.
 */
export function asanaTimeOf(value: JsonValue | undefined): number | null {
  if (typeof value !== 'string') return null;
  const text = value.toUpperCase();
  if (!RFC_3339.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A gid as text: a non-blank string, or an integer JSON number (the spec types
 * `on_behalf_of_user_id` so). A number beyond 2^53 was rounded by JSON parsing and would name
 * another user, so it is not an id.
 */
function idOf(value: JsonValue | undefined): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
}

function textOf(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function objectOf<T>(value: JsonValue | undefined): Lenient<T> | null {
  return isJsonObject(value) ? (value as Lenient<T>) : null;
}

/**
 * `actor.actor_type` as an {@link ActorType}.
 * - `external_administrator` (an administrator acting from outside the organization) is a
 *   person, so USER; the enum has no ADMIN kind and the raw type stays in `raw`.
 * - A `user` that called the API with a service account token (`context.api_authentication_method`
 *   = `service_account`) is that service account: SERVICE_ACCOUNT. Only service accounts can hold
 *   such tokens, so this never relabels a person.
 * - No actor type, or one Asana may add later: UNKNOWN.
 */
export function asanaActorType(actorType: string | null | undefined, authMethod: string | null | undefined): ActorType {
  switch (actorType as RawAsanaActorType | null | undefined) {
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
export function asanaCategory(eventCategory: string | null | undefined, eventType: string): EventCategory {
  const known = eventCategory == null ? undefined : CATEGORIES[eventCategory];
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

/**
 * The actor, with what the context says about how it acted. An event without an actor still
 * happened: its actor is UNKNOWN, without an id, rather than the event being left out.
 */
function actorOf(actor: Lenient<RawAsanaActor> | null, context: Lenient<RawAsanaContext> | null, sourceId: string): ActorModel {
  return {
    sourceId,
    sourceActorId: idOf(actor?.gid),
    type: asanaActorType(textOf(actor?.actor_type), textOf(context?.api_authentication_method)),
    name: textOf(actor?.name),
    email: textOf(actor?.email),
    ...actorCircumstances(context, sourceId),
  };
}

/**
 * The OAuth app the actor called through, the automation rule that acted, and the user who
 * asked Asana support for the change; each only where the event records it.
 */
function actorCircumstances(context: Lenient<RawAsanaContext> | null, sourceId: string): Pick<ActorModel, 'application' | 'automation' | 'onBehalfOf'> {
  const circumstances: Pick<ActorModel, 'application' | 'automation' | 'onBehalfOf'> = {};
  const application = textOf(context?.oauth_app_name);
  const automation = textOf(context?.rule_name);
  const requesterGid = idOf(context?.on_behalf_of_user_id);
  if (application !== null) circumstances.application = application;
  if (automation !== null) circumstances.automation = automation;
  if (requesterGid !== null) circumstances.onBehalfOf = { sourceId, sourceActorId: requesterGid, type: 'USER', name: null, email: null };
  return circumstances;
}

/** The resource as a target; a resource without a gid cannot be told apart from others, so it is none. */
function targetOf(resource: Lenient<RawAsanaResource> | null, sourceId: string): TargetModel | null {
  const gid = idOf(resource?.gid);
  if (resource === null || gid === null) return null;
  const target: TargetModel = { sourceId, sourceTargetId: gid, type: textOf(resource.resource_type) ?? UNKNOWN_RESOURCE_TYPE, name: textOf(resource.name) };
  const subtype = textOf(resource.resource_subtype);
  const email = textOf(resource.email);
  if (subtype !== null) target.subtype = subtype;
  if (email !== null) target.email = email;
  return target;
}

/** Where the event came from; null when the event has no context at all. */
function requestOf(context: Lenient<RawAsanaContext> | null): RequestContextModel | null {
  if (context === null) return null;
  const request = emptyRequestContext();
  request.clientIp = textOf(context.client_ip_address);
  request.userAgent = textOf(context.user_agent);
  request.origin = textOf(context.context_type);
  return request;
}

/** A placeable Asana event as an {@link AuditEventModel}; `raw` is the record exactly as received. */
export function normalizeAsanaAuditLogEvent(parsed: ParsedAsanaEvent, sourceId: string): AuditEventModel {
  const record = parsed.record as Lenient<RawAsanaAuditLogEvent>;
  const context = objectOf<RawAsanaContext>(record.context);
  const action = textOf(record.event_type) ?? UNKNOWN_EVENT_TYPE;
  return {
    sourceId,
    vendor: 'asana',
    sourceEventId: parsed.gid,
    action,
    category: asanaCategory(textOf(record.event_category), action),
    occurredAtMs: parsed.occurredAtMs,
    actor: actorOf(objectOf<RawAsanaActor>(record.actor), context, sourceId),
    target: targetOf(objectOf<RawAsanaResource>(record.resource), sourceId),
    request: requestOf(context),
    details: record.details ?? null,
    repository: null,
    integrity: null,
    failed: failedOf(action),
    raw: parsed.record,
  };
}
