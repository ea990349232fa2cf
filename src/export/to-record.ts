import { eventGlobalId } from '../connection/global-id';
import type { ActorModel, AuditEventModel } from '../models/audit-event';
import type { ExportedActor, ExportedEvent } from './event-record';

/**
 * An event as `events.jsonl` holds it: every member present, null where the vendor records
 * nothing. Members are created in canonical (sorted) order, which the canonical writer then
 * finds in order instead of sorting them for every event.
 */
export function toExportedEvent(event: AuditEventModel): ExportedEvent {
  const { target, request, repository, integrity } = event;
  return {
    action: event.action,
    actor: exportedActor(event.actor),
    category: event.category,
    details: event.details,
    failed: event.failed,
    id: eventGlobalId(event),
    integrity: integrity ? { hash: integrity.hash, previousHash: integrity.previousHash } : null,
    occurredAt: new Date(event.occurredAtMs).toISOString(),
    raw: event.raw,
    repository: repository ? { name: repository.name, sourceRepositoryId: repository.sourceRepositoryId } : null,
    request: request
      ? {
          clientIp: request.clientIp,
          httpMethod: request.httpMethod,
          origin: request.origin,
          path: request.path,
          requestId: request.requestId,
          sessionId: request.sessionId,
          statusCode: request.statusCode,
          traceId: request.traceId,
          userAgent: request.userAgent,
        }
      : null,
    sourceEventId: event.sourceEventId,
    sourceId: event.sourceId,
    target: target
      ? { email: target.email ?? null, name: target.name, sourceTargetId: target.sourceTargetId, subtype: target.subtype ?? null, type: target.type }
      : null,
    vendor: event.vendor,
  };
}

function exportedActor(actor: ActorModel): ExportedActor {
  return {
    application: actor.application ?? null,
    automation: actor.automation ?? null,
    email: actor.email,
    name: actor.name,
    onBehalfOf: actor.onBehalfOf ? exportedActor(actor.onBehalfOf) : null,
    organizationId: actor.organizationId ?? null,
    sourceActorId: actor.sourceActorId,
    type: actor.type,
  };
}
