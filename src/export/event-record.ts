import type { JsonObject, JsonValue } from '../models/json';

/**
 * One normalised event as a line of `events.jsonl` holds it (before its `chainHash`): the
 * `AuditEvent` of the GraphQL schema as plain JSON, with the vendor's record in `raw`. Every
 * member is present (null when the vendor records nothing), so lines of all vendors have one shape.
 */
export interface ExportedEvent {
  [member: string]: JsonValue;
  /** The event's global id, as `AuditEvent.id` and `node(id)` know it. */
  id: string;
  /** ISO 8601, UTC, milliseconds: `2026-09-30T23:59:59.999Z`. */
  occurredAt: string;
  sourceId: string;
  vendor: string;
  sourceEventId: string;
  action: string;
  category: string;
  failed: boolean | null;
  actor: ExportedActor;
  target: ExportedTarget | null;
  request: ExportedRequest | null;
  repository: { sourceRepositoryId: string; name: string | null } | null;
  details: JsonValue;
  integrity: { hash: string | null; previousHash: string | null } | null;
  raw: JsonObject;
}

export interface ExportedActor {
  [member: string]: JsonValue;
  type: string;
  sourceActorId: string | null;
  name: string | null;
  email: string | null;
  organizationId: string | null;
  application: string | null;
  automation: string | null;
  onBehalfOf: ExportedActor | null;
}

export interface ExportedTarget {
  [member: string]: JsonValue;
  type: string;
  sourceTargetId: string;
  name: string | null;
  subtype: string | null;
  email: string | null;
}

export interface ExportedRequest {
  [member: string]: JsonValue;
  clientIp: string | null;
  userAgent: string | null;
  httpMethod: string | null;
  path: string | null;
  statusCode: number | null;
  sessionId: string | null;
  traceId: string | null;
  requestId: string | null;
  origin: string | null;
}
