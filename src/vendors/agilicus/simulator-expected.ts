import { createHash } from 'node:crypto';
import { emptyRequestContext, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import type { JsonObject } from '../../models/json';
import type { RawAgilicusAudit, RawAgilicusAuthAudit } from './wire-types';

/**
 * The events the Agilicus datasource must make of the simulator's records: the ground truth of
 * the contract and datasource tests. The mapping is restated from docs/vendors/agilicus.md for the
 * records the simulator generates, and deliberately does not use the normaliser: were it computed
 * by the code under test, a mapping bug would reappear in the expectations and cancel out.
 *
 * Generated records are flat objects whose fields are text or absent (never `null`, empty or of
 * another type), and an audit record carries both `target_resource_type` and `api_name` or, as
 * the older 8-field `Audit`, neither; the lenient reading of anything else is the normaliser's
 * own tests' business.
 */

/** What the generator chose for one record besides its fields. */
interface Generated<Kind extends 'audit' | 'auth', Fields> {
  kind: Kind;
  /** The millisecond the generator placed the record at; its `time` is this as ISO-8601. */
  occurredAtMs: number;
  /** 0 for a record the generator wrote once; n for its n-th exact copy (a retried write). */
  copy: number;
  record: Fields;
}

/** One record of the simulator with the generator's choices for it. */
export type GeneratedAgilicusRecord = Generated<'audit', RawAgilicusAudit> | Generated<'auth', RawAgilicusAuthAudit>;

/** The docs' category of each resource type the simulator writes audit records for. */
const CATEGORY_OF_GENERATED_TYPE: Readonly<Record<string, EventCategory>> = {
  user: 'ADMIN',
  group: 'ADMIN',
  role: 'ACCESS',
  token: 'AUTHENTICATION',
  application: 'CONFIGURATION',
  application_service: 'CONFIGURATION',
  agent_connector: 'CONFIGURATION',
  issuer_client: 'CONFIGURATION',
  desktop_resource: 'CONFIGURATION',
  file: 'DATA',
  certificate: 'SECURITY',
  audit_destination: 'COMPLIANCE',
};

/** The auth results the docs call a failure. */
const FAILED_RESULTS: ReadonlySet<string> = new Set(['Failure', 'Denied', 'Timeout']);

/** The fields the docs put in `details` besides `kind`, per record kind. */
const AUDIT_DETAILS = ['api_name', 'org_id', 'token_id', 'secondary_id', 'tertiary_id', 'parent_id', 'grandparent_id'] as const;
const AUTH_DETAILS = ['org_id', 'org_name', 'issuer', 'upstream_idp', 'upstream_user_id', 'login_org_id', 'login_org_name', 'token_id', 'application_name'] as const;

/** The event the datasource must make of a generated record. */
export function expectedAgilicusEvent(sourceId: string, generated: GeneratedAgilicusRecord): AuditEventModel {
  return generated.kind === 'audit' ? expectedAudit(sourceId, generated) : expectedAuth(sourceId, generated);
}

function expectedAudit(sourceId: string, { occurredAtMs, copy, record }: Generated<'audit', RawAgilicusAudit>): AuditEventModel {
  const resourceType = record.target_resource_type;
  return {
    sourceId,
    vendor: 'agilicus',
    sourceEventId: expectedId('audit', occurredAtMs, record, copy),
    action: record.action ?? 'unknown',
    category: resourceType === undefined ? 'OTHER' : categoryOf(resourceType),
    occurredAtMs,
    actor: { sourceId, sourceActorId: record.user_id ?? null, type: record.user_id ? 'USER' : 'SYSTEM', name: null, email: null, organizationId: record.org_id ?? null },
    target: record.target_id ? { sourceId, sourceTargetId: record.target_id, type: resourceType ?? 'unknown', name: null } : null,
    request: { ...emptyRequestContext(), clientIp: record.source_ip ?? null, sessionId: record.session ?? null, traceId: record.trace_id ?? null },
    repository: null,
    details: detailsOf('audit', record, AUDIT_DETAILS),
    integrity: null,
    failed: null,
    raw: jsonOf(record),
  };
}

function expectedAuth(sourceId: string, { occurredAtMs, copy, record }: Generated<'auth', RawAgilicusAuthAudit>): AuditEventModel {
  const result = record.result ?? record.event;
  return {
    sourceId,
    vendor: 'agilicus',
    sourceEventId: expectedId('auth', occurredAtMs, record, copy),
    action: `${record.event_name ?? record.stage ?? 'Authentication'}:${result ?? 'Unknown'}`,
    category: 'AUTHENTICATION',
    occurredAtMs,
    actor: {
      sourceId,
      sourceActorId: record.user_id ?? null,
      type: record.user_id ? 'USER' : 'ANONYMOUS',
      name: null,
      email: null,
      organizationId: record.org_id ?? null,
      application: record.application_name ?? record.client_id ?? null,
    },
    target: record.client_id ? { sourceId, sourceTargetId: record.client_id, type: 'issuer_client', name: record.application_name ?? null } : null,
    request: {
      ...emptyRequestContext(),
      clientIp: record.source_ip ?? null,
      userAgent: record.user_agent ?? null,
      requestId: record.request_id ?? null,
      sessionId: record.session ?? null,
      traceId: record.trace_id ?? null,
    },
    repository: null,
    details: detailsOf('auth', record, AUTH_DETAILS),
    integrity: null,
    failed: result === undefined ? null : FAILED_RESULTS.has(result),
    raw: jsonOf(record),
  };
}

function categoryOf(resourceType: string): EventCategory {
  const category = CATEGORY_OF_GENERATED_TYPE[resourceType];
  // A resource type the simulator has started to write needs its documented category here first.
  if (category === undefined) throw new Error(`no expected category for generated resource type ${resourceType}`);
  return category;
}

/**
 * The documented id: kind, millisecond, and 32 hex of the SHA-256 of the record's JSON with its
 * keys sorted; `:n` on the n-th copy. A generated record is flat, so listing its keys sorted as
 * the replacer of `JSON.stringify` gives that JSON.
 */
function expectedId(kind: 'audit' | 'auth', occurredAtMs: number, record: RawAgilicusAudit | RawAgilicusAuthAudit, copy: number): string {
  const sortedJson = JSON.stringify(record, Object.keys(record).sort());
  const id = `${kind}:${occurredAtMs}:${createHash('sha256').update(sortedJson, 'utf8').digest('hex').slice(0, 32)}`;
  return copy === 0 ? id : `${id}:${copy}`;
}

function detailsOf<R extends object>(kind: 'audit' | 'auth', record: R, fields: readonly (keyof R & string)[]): JsonObject {
  const details: JsonObject = { kind };
  for (const field of fields) {
    const value = record[field];
    if (typeof value === 'string') details[field] = value;
  }
  return details;
}

/** The generated record as JSON: what the datasource keeps as `raw`. */
function jsonOf(record: RawAgilicusAudit | RawAgilicusAuthAudit): JsonObject {
  const raw: JsonObject = {};
  for (const [field, value] of Object.entries(record)) if (typeof value === 'string') raw[field] = value;
  return raw;
}
