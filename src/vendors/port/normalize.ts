import { emptyRequestContext, type ActorModel, type AuditEventModel, type EventCategory, type TargetModel } from '../../models/audit-event';
import { isJsonObject, type JsonObject, type JsonValue } from '../../models/json';
import { UnusableRecord } from '../../sources/normalize-page';

/**
 * A Port record that can be placed in the log: the two fields that place it, checked, and the
 * record itself, whose other fields the normaliser reads leniently.
 */
export interface PortAuditLogRecord {
  identifier: string;
  occurredAtMs: number;
  record: JsonObject;
}

/**
 * Narrows one `audits[]` element under the record policy: only a record without an `identifier`
 * or without a usable `trigger.at` is refused ({@link UnusableRecord}); every other field may be
 * null, absent or of an unexpected type and is then read as absent.
 */
export function parsePortAuditLog(value: unknown): PortAuditLogRecord {
  if (!isJsonObject(value)) throw new UnusableRecord('record is not an object');
  const identifier = identifierOf(value['identifier']);
  if (identifier === null) throw new UnusableRecord('no identifier');
  const occurredAtMs = instantOf(objectOf(value['trigger'])?.['at']);
  if (occurredAtMs === null) throw new UnusableRecord('no usable trigger.at');
  return { identifier, occurredAtMs, record: value };
}

/** Port's ids are strings; a number is still an identity, so it is read as its decimal text. */
function identifierOf(value: JsonValue | undefined): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** ISO 8601 date and time, with an optional zone: the only forms whose instant is not a guess. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The instant of a `trigger.at`, in ms, or null. Port's API writes UTC with `Z`; its event examples
 * also show offsets (`+02:00`), which are honoured. A time without a zone is read as UTC, the
 * API's only zone (JavaScript would read it as the host's local time).
 */
export function instantOf(value: JsonValue | undefined): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim().toUpperCase();
  const match = ISO_INSTANT.exec(text);
  if (!match) return null;
  const ms = Date.parse(match[1] === undefined ? `${text}Z` : text);
  return Number.isFinite(ms) ? ms : null;
}

/** Past participles of the operations the `action` filter knows; other operations are lower-cased as they are. */
const VERBS: ReadonlyMap<string, string> = new Map([['CREATE', 'created'], ['UPDATE', 'updated'], ['DELETE', 'deleted']]);

/** Stands in for a part of the action name the record does not give. */
const UNKNOWN_PART = 'unknown';

/**
 * The gateway action name, `<resourceType>.<created|updated|deleted>` like the documented
 * `entity.created`. Other operations keep their own name (`TIMER_EXPIRED` → `entity.timer_expired`);
 * a part the record does not give is `unknown` (`entity.unknown`, `unknown.updated`), so the
 * name keeps its two parts and never claims a resource or verb Port did not state.
 */
export function portActionName(resourceType: string | null, action: string | null): string {
  const verb = action === null ? UNKNOWN_PART : (VERBS.get(action) ?? (snakeCase(action) || UNKNOWN_PART));
  return `${resourceType ?? UNKNOWN_PART}.${verb}`;
}

function snakeCase(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * Categories by resource type. Runs count as DATA: a run is a record users create by invoking an
 * action (like an entity it lives in the catalog and usually changes entities), not a change to
 * how Port is set up; blueprints, actions, scorecards, webhooks and integrations are that set-up.
 */
const CATEGORIES: ReadonlyMap<string, EventCategory> = new Map<string, EventCategory>([
  ['entity', 'DATA'],
  ['run', 'DATA'],
  ['blueprint', 'CONFIGURATION'],
  ['action', 'CONFIGURATION'],
  ['scorecard', 'CONFIGURATION'],
  ['webhook', 'CONFIGURATION'],
  ['integration', 'CONFIGURATION'],
]);

/**
 * Context keys that hold the id of the record's own resource, by resource type, in order of
 * preference. Audit records and change events use `entity`/`blueprint`; automation payloads use
 * `entityIdentifier`/`blueprintIdentifier`; the exporter's record format also shows `entityId`/`blueprintId`.
 */
const BLUEPRINT_KEYS: readonly string[] = ['blueprint', 'blueprintIdentifier', 'blueprintId'];
const TARGET_KEYS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['entity', ['entity', 'entityIdentifier', 'entityId']],
  ['blueprint', BLUEPRINT_KEYS],
  ['run', ['runId']],
  ['action', ['action', 'actionIdentifier', 'actionId']],
  ['scorecard', ['scorecard', 'scorecardIdentifier', 'scorecardId']],
  ['webhook', ['webhookId']],
  ['integration', ['installationId', 'integration']],
]);

/** The id field of the resource's own snapshot in `diff`, for records whose context does not name it (run updates). */
const SNAPSHOT_ID_KEYS: ReadonlyMap<string, string> = new Map([
  ['entity', 'identifier'],
  ['blueprint', 'identifier'],
  ['action', 'identifier'],
  ['scorecard', 'identifier'],
  ['webhook', 'identifier'],
  ['run', 'id'],
  ['integration', 'installationId'],
]);

/** Origins that name a channel rather than the integration that made the change. */
const CHANNEL_ORIGINS = new Set(['UI', 'API', 'AUTOMATION']);

/** Port's built-in blueprint of users, whose entities are identified by the user's email. */
const USER_BLUEPRINT = '_user';

/**
 * Who acted. `…@clients` is an OAuth client-credentials caller (an integration or a CI job), which
 * the gateway calls a service account; any other id is a person; a `trigger.by` without a user
 * is Port itself (automations, timers: `byPort`); no `trigger.by` at all says nothing, so UNKNOWN.
 * `orgId` is the actor's organisation; an origin that names an integration is the application
 * the actor acted through.
 */
export function portActor(by: JsonObject | null, origin: string | null, sourceId: string): ActorModel {
  const userId = by === null ? null : textOf(by['userId']);
  const application = origin !== null && !CHANNEL_ORIGINS.has(origin) ? origin : null;
  const common = { sourceId, name: null, email: null, organizationId: by === null ? null : textOf(by['orgId']), application };
  if (userId !== null) return { ...common, sourceActorId: userId, type: userId.endsWith('@clients') ? 'SERVICE_ACCOUNT' : 'USER' };
  return { ...common, sourceActorId: null, type: by === null ? 'UNKNOWN' : 'SYSTEM' };
}

/** A parsed Port record as an {@link AuditEventModel}; the record itself is kept in `raw`. */
export function normalizePortAuditLog(parsed: PortAuditLogRecord, sourceId: string): AuditEventModel {
  const { record } = parsed;
  const resourceType = textOf(record['resourceType']);
  const trigger = objectOf(record['trigger']);
  const origin = textOf(trigger?.['origin']);
  const request = emptyRequestContext();
  request.origin = origin;
  return {
    sourceId,
    vendor: 'port',
    sourceEventId: parsed.identifier,
    action: portActionName(resourceType, textOf(record['action'])),
    category: (resourceType !== null && CATEGORIES.get(resourceType)) || 'OTHER',
    occurredAtMs: parsed.occurredAtMs,
    actor: portActor(objectOf(trigger?.['by']), origin, sourceId),
    target: resourceType === null ? null : portTarget(resourceType, objectOf(record['context']), objectOf(record['diff']), sourceId),
    request,
    details: detailsOf(record),
    repository: null,
    integrity: null,
    failed: failedOf(textOf(record['status'])),
    raw: record,
  };
}

/**
 * What a record of `resourceType` acted on: its id from the context, else from the resource's own
 * snapshot in `diff`. Without a resource type there is no target: the context of a run or a
 * scorecard also names an entity and a blueprint, so the context alone cannot say which one the
 * record is about.
 */
export function portTarget(resourceType: string, context: JsonObject | null, diff: JsonObject | null, sourceId: string): TargetModel | null {
  const id = firstIdOf(context, TARGET_KEYS.get(resourceType) ?? []) ?? snapshotField(diff, SNAPSHOT_ID_KEYS.get(resourceType));
  if (id === null) return null;
  const subtype = subtypeOf(resourceType, context, diff);
  return {
    sourceId,
    sourceTargetId: id,
    type: resourceType,
    name: titleOf(diff),
    subtype,
    email: subtype === USER_BLUEPRINT && id.includes('@') ? id : null,
  };
}

/** The finer kind of a target: an entity's blueprint, a run's action. */
function subtypeOf(resourceType: string, context: JsonObject | null, diff: JsonObject | null): string | null {
  if (resourceType === 'entity') return firstIdOf(context, BLUEPRINT_KEYS) ?? snapshotField(diff, 'blueprint');
  if (resourceType === 'run') return firstIdOf(context, ['action', 'actionIdentifier']) ?? snapshotField(diff, 'action');
  return null;
}

/** The first of `keys` in `context` that holds an id. */
function firstIdOf(context: JsonObject | null, keys: readonly string[]): string | null {
  if (context === null) return null;
  for (const key of keys) {
    const id = idOf(context[key]);
    if (id !== null) return id;
  }
  return null;
}

/** `key` of the resource's snapshot after (or, on DELETE, before) the change, as an id. */
function snapshotField(diff: JsonObject | null, key: string | undefined): string | null {
  if (diff === null || key === undefined) return null;
  for (const side of [diff['after'], diff['before']]) {
    const id = isJsonObject(side) ? idOf(side[key]) : null;
    if (id !== null) return id;
  }
  return null;
}

/** An id given as text, or as an object carrying it (a run's `action: {identifier, title, …}`). */
function idOf(value: JsonValue | undefined): string | null {
  if (isJsonObject(value)) return textOf(value['identifier']) ?? textOf(value['id']);
  return textOf(value);
}

/** The resource's title from its snapshot after (or, on DELETE, before) the change. */
function titleOf(diff: JsonObject | null): string | null {
  if (diff === null) return null;
  for (const side of [diff['after'], diff['before']]) {
    const title = isJsonObject(side) ? textOf(side['title']) : null;
    if (title !== null) return title;
  }
  return null;
}

/** Port's verdict: only its two documented statuses say anything (they are what `status=` filters on). */
function failedOf(status: string | null): boolean | null {
  if (status === 'FAILURE') return true;
  if (status === 'SUCCESS') return false;
  return null;
}

/** The parts of a record a reader needs beyond the common fields; null ones are left out. */
function detailsOf(record: JsonObject): JsonObject | null {
  const details: JsonObject = {};
  for (const key of ['diff', 'context', 'message', 'additionalData'] as const) {
    const value = record[key];
    if (value !== undefined && value !== null) details[key] = value;
  }
  return Object.keys(details).length > 0 ? details : null;
}

/** Non-empty text, or null for anything else (null, absent, another type). */
function textOf(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function objectOf(value: JsonValue | undefined): JsonObject | null {
  return isJsonObject(value) ? value : null;
}
