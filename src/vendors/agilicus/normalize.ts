import { createHash } from 'node:crypto';
import { emptyRequestContext, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import { canonicalJson } from '../../models/canonical-json';
import { isJsonObject, type JsonObject, type JsonValue } from '../../models/json';
import { UnusableRecord } from '../../sources/normalize-page';
import type { RawAgilicusAudit, RawAgilicusAuthAudit } from './wire-types';

/**
 * Conventions of this normaliser (the vendor's AuditsApi as described in wire-types.ts):
 *
 * - ids: records have none, so `sourceEventId` is `<kind>:<time>:<first 32 hex of SHA-256 over
 *   the record's canonical JSON>` (keys sorted at every level), kind `audit` or `auth`, time the
 *   record's millisecond since the epoch in base 10. Kind and time make an id self-locating: the
 *   endpoint to read and the one millisecond to ask it for ({@link parseAgilicusId}), with no other
 *   hint. Two records with the same canonical JSON are the same bytes, so nothing can tell them
 *   apart; they still are two events, so the 2nd, 3rd … copy gets `:1`, `:2` … appended
 *   ({@link withOccurrenceIds}). The time is part of the JSON, so copies always share a timestamp;
 *   the datasource only hands out whole timestamp groups, which keeps the numbering the same on
 *   every read.
 * - audit `action`: the record's `action` as given (a CREATE-style verb); the resource type it
 *   acted on is `target.type`, so a gateway filter combines them as `actions` + `targetTypes`.
 * - auth `action`: `<event_name>:<result>` (e.g. `Authentication Request:Success`), falling back
 *   to the deprecated `stage` / `event`; it always contains a `:`, which tells the datasource a
 *   filter value that can never name an auth record.
 * - record policy: every field is optional, `null` and a value that is not text read as absent;
 *   only a record without a readable `time` cannot be placed ({@link UnusableRecord}): its id
 *   needs its millisecond, and windows and order need its time. The record stays whole in `raw`
 *   (and in the id's hash), odd values included.
 */

/** The two record kinds, one per endpoint. */
export type AgilicusRecordKind = 'audit' | 'auth';

/** Normalised action of an audit record without `action`. */
export const UNKNOWN_AUDIT_ACTION = 'unknown';

/** Auth `result` values that mean the step failed. */
const FAILED_RESULTS = new Set(['Failure', 'Denied', 'Timeout']);

/**
 * A record as received: the documented fields may hold anything JSON can (the type makes every
 * read go through {@link text}), and the object is kept exactly as sent.
 */
export type AgilicusReceived<T> = { readonly [K in keyof T]?: JsonValue } & JsonObject;

/** A parsed `audits[]` element. */
export type ReceivedAudit = AgilicusReceived<RawAgilicusAudit>;
/** A parsed `auth_audits[]` element. */
export type ReceivedAuthAudit = AgilicusReceived<RawAgilicusAuthAudit>;

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Milliseconds of an Agilicus `time`. Finer fractions are truncated; a value without a zone is
 * UTC (the API documents UTC, and Python's `isoformat()` of a naive datetime omits the zone).
 */
export function parseAgilicusTime(text: string): number {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return Number.NaN;
  return Date.parse(match[1] ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`);
}

/** The object itself when it has a readable `time`; throws {@link UnusableRecord} otherwise. */
function placeableRecord(value: unknown): JsonObject {
  if (!isJsonObject(value)) throw new UnusableRecord('record is not an object');
  const time = value['time'];
  if (typeof time !== 'string' || Number.isNaN(parseAgilicusTime(time))) throw new UnusableRecord('no readable time');
  return value;
}

/** Narrows one `audits[]` element; throws {@link UnusableRecord} only for a record without a readable `time`. */
export function parseAgilicusAudit(value: unknown): ReceivedAudit {
  return placeableRecord(value);
}

/** Narrows one `auth_audits[]` element; throws {@link UnusableRecord} only for a record without a readable `time`. */
export function parseAgilicusAuthAudit(value: unknown): ReceivedAuthAudit {
  return placeableRecord(value);
}

/** The derived id of a record before occurrence numbering: `<kind>:<occurredAtMs>:<32 hex>`. */
export function agilicusRecordId(kind: AgilicusRecordKind, occurredAtMs: number, raw: JsonObject): string {
  return `${kind}:${occurredAtMs}:${createHash('sha256').update(canonicalJson(raw)).digest('hex').slice(0, 32)}`;
}

/** What a derived id tells before any request: which endpoint holds the record, and its millisecond. */
export interface AgilicusIdParts {
  kind: AgilicusRecordKind;
  occurredAtMs: number;
  /** 0 for a record's first copy, n for the id with `:n` appended. */
  copy: number;
}

// Only the form `agilicusRecordId` writes (no leading zeros, no `-0`), so that an id that parses
// is one this source could have given out, and anything else costs no request.
const RECORD_ID = /^(audit|auth):(0|-?[1-9]\d{0,15}):[0-9a-f]{32}(?::([1-9]\d{0,8}))?$/;

/** The parts of a derived id (see the module comment), or null when `id` is not one. */
export function parseAgilicusId(id: string): AgilicusIdParts | null {
  const match = RECORD_ID.exec(id);
  if (!match) return null;
  const occurredAtMs = Number(match[2]);
  if (!Number.isSafeInteger(occurredAtMs)) return null;
  return { kind: match[1] as AgilicusRecordKind, occurredAtMs, copy: match[3] === undefined ? 0 : Number(match[3]) };
}

/**
 * Numbers identical records: the first keeps its id, the n-th further copy gets `:n`. Must be
 * given every record of each timestamp group it holds (the datasource reads groups whole).
 */
export function withOccurrenceIds(events: readonly AuditEventModel[]): AuditEventModel[] {
  const seen = new Map<string, number>();
  return events.map((event) => {
    const copies = seen.get(event.sourceEventId) ?? 0;
    seen.set(event.sourceEventId, copies + 1);
    return copies === 0 ? event : { ...event, sourceEventId: `${event.sourceEventId}:${copies}` };
  });
}

const CATEGORY_BY_RESOURCE: Record<string, EventCategory> = {
  user: 'ADMIN', group: 'ADMIN', org: 'ADMIN', member: 'ADMIN', service_account: 'ADMIN',
  role: 'ACCESS', permission: 'ACCESS', role_binding: 'ACCESS', rule: 'ACCESS', policy: 'ACCESS', policy_rule: 'ACCESS',
  token: 'AUTHENTICATION', api_key: 'AUTHENTICATION', session: 'AUTHENTICATION', credential: 'AUTHENTICATION',
  challenge: 'AUTHENTICATION', authentication: 'AUTHENTICATION', mfa_enrollment: 'AUTHENTICATION',
  application: 'CONFIGURATION', application_service: 'CONFIGURATION', connector: 'CONFIGURATION',
  agent_connector: 'CONFIGURATION', issuer: 'CONFIGURATION', issuer_client: 'CONFIGURATION',
  catalogue: 'CONFIGURATION', desktop_resource: 'CONFIGURATION', ssh_resource: 'CONFIGURATION',
  network_resource: 'CONFIGURATION', launcher: 'CONFIGURATION', domain: 'CONFIGURATION', resource: 'CONFIGURATION',
  file: 'DATA', file_share: 'DATA',
  certificate: 'SECURITY', firewall_rule: 'SECURITY',
  audit: 'COMPLIANCE', audit_destination: 'COMPLIANCE', bulk_audit_event: 'COMPLIANCE',
};

function resourceKey(name: string): string {
  const key = name.trim().toLowerCase().replace(/[-\s]+/g, '_');
  // `api_name` is plural (`users`), `target_resource_type` singular (`user`).
  return CATEGORY_BY_RESOURCE[key] ? key : key.replace(/s$/, '');
}

/** The category of an audit record, by its resource type first (finer), then the API that wrote it. */
export function agilicusAuditCategory(targetResourceType: string | null | undefined, apiName: string | null | undefined): EventCategory {
  for (const name of [targetResourceType, apiName]) {
    const category = name ? CATEGORY_BY_RESOURCE[resourceKey(name)] : undefined;
    if (category) return category;
  }
  return 'OTHER';
}

/** The action of an auth record: `<event_name>:<result>`, with the deprecated `stage` / `event` as fallbacks. */
export function agilicusAuthAction(raw: ReceivedAuthAudit): string {
  return `${text(raw.event_name) ?? text(raw.stage) ?? 'Authentication'}:${text(raw.result) ?? text(raw.event) ?? 'Unknown'}`;
}

/**
 * `{kind}` plus the text fields of `raw` named in `fields`: context the model has no place for,
 * and fields it has a place for that `filter.text` should still find (the model's organisation and
 * application are not searched).
 */
function pickDetails(kind: AgilicusRecordKind, raw: JsonObject, fields: readonly string[]): JsonObject {
  const details: JsonObject = { kind };
  for (const field of fields) {
    const value = text(raw[field]);
    if (value !== null) details[field] = value;
  }
  return details;
}

/** A field's text; null for absent, `null`, empty, or not text (a record is read leniently). */
function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The record's millisecond; the parser has already refused records without one. */
function occurredAtOf(raw: JsonObject): number {
  return parseAgilicusTime(text(raw['time']) ?? '');
}

/** A parsed `/v1/audits` record as an {@link AuditEventModel}, id before occurrence numbering. */
export function normalizeAgilicusAudit(raw: ReceivedAudit, sourceId: string): AuditEventModel {
  const occurredAtMs = occurredAtOf(raw);
  const request = emptyRequestContext();
  request.clientIp = text(raw.source_ip);
  request.traceId = text(raw.trace_id);
  request.sessionId = text(raw.session);
  const userId = text(raw.user_id);
  const targetId = text(raw.target_id);
  const resourceType = text(raw.target_resource_type);
  const apiName = text(raw.api_name);
  return {
    sourceId,
    vendor: 'agilicus',
    sourceEventId: agilicusRecordId('audit', occurredAtMs, raw),
    action: text(raw.action) ?? UNKNOWN_AUDIT_ACTION,
    category: agilicusAuditCategory(resourceType, apiName),
    occurredAtMs,
    // No user on the record: the platform acted on its own (e.g. a scheduled cleanup).
    actor: { sourceId, sourceActorId: userId, type: userId ? 'USER' : 'SYSTEM', name: null, email: null, organizationId: text(raw.org_id) },
    target: targetId ? { sourceId, sourceTargetId: targetId, type: resourceType ?? apiName ?? 'unknown', name: null } : null,
    request,
    details: pickDetails('audit', raw, ['api_name', 'org_id', 'token_id', 'secondary_id', 'tertiary_id', 'parent_id', 'grandparent_id']),
    repository: null,
    integrity: null,
    failed: null,
    raw,
  };
}

/** A parsed `/v1/auth_audits` record as an AUTHENTICATION {@link AuditEventModel}, id before occurrence numbering. */
export function normalizeAgilicusAuthAudit(raw: ReceivedAuthAudit, sourceId: string): AuditEventModel {
  const occurredAtMs = occurredAtOf(raw);
  const request = emptyRequestContext();
  request.clientIp = text(raw.source_ip);
  request.userAgent = text(raw.user_agent);
  request.requestId = text(raw.request_id);
  request.sessionId = text(raw.session);
  request.traceId = text(raw.trace_id);
  const userId = text(raw.user_id);
  const clientId = text(raw.client_id);
  const applicationName = text(raw.application_name);
  const result = text(raw.result) ?? text(raw.event);
  return {
    sourceId,
    vendor: 'agilicus',
    sourceEventId: agilicusRecordId('auth', occurredAtMs, raw),
    action: agilicusAuthAction(raw),
    category: 'AUTHENTICATION',
    occurredAtMs,
    // Before the pipeline has matched a local user there is only an upstream identity, if that.
    // A user signs in through the issuer of their own organisation, so the issuer's `org_id` is
    // theirs; the OIDC client presented is the application they act through.
    actor: {
      sourceId,
      sourceActorId: userId,
      type: userId ? 'USER' : 'ANONYMOUS',
      name: null,
      email: null,
      organizationId: text(raw.org_id),
      application: applicationName ?? clientId,
    },
    // The OIDC client presented is what the login was for; `client_id` is also its filter upstream.
    target: clientId ? { sourceId, sourceTargetId: clientId, type: 'issuer_client', name: applicationName } : null,
    request,
    details: pickDetails('auth', raw, [
      'org_id', 'org_name', 'issuer', 'upstream_idp', 'upstream_user_id', 'login_org_id', 'login_org_name', 'token_id', 'application_name',
    ]),
    repository: null,
    integrity: null,
    failed: result === null ? null : FAILED_RESULTS.has(result),
    raw,
  };
}
