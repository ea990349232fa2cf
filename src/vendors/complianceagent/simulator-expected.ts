import { emptyRequestContext, type AuditEventModel, type EventCategory } from '../../models/audit-event';
import { isJsonObject, type JsonObject } from '../../models/json';
import type { ComplianceAgentData } from './simulator-data';
import type { RawAuditLogEntry, RawEventType } from './wire-types';

/**
 * The events the ComplianceAgent datasource must make of the simulator's log: the ground truth of
 * the contract and datasource tests. The mapping is restated from docs/vendors/complianceagent.md
 * for the entries the simulator generates, from the generator's own choices (event type, actor,
 * repository, time, hashes) where it keeps them, and deliberately does not use the normaliser:
 * were it computed by the code under test, a mapping bug would reappear in the expectations and
 * cancel out.
 */

/** The docs' category of each event type the simulator writes (by the part before the dot). */
const CATEGORY_OF_TYPE: Readonly<Record<RawEventType, EventCategory>> = {
  'scan.started': 'COMPLIANCE',
  'scan.completed': 'COMPLIANCE',
  'issue.created': 'COMPLIANCE',
  'issue.updated': 'COMPLIANCE',
  'issue.resolved': 'COMPLIANCE',
  'fix.generated': 'COMPLIANCE',
  'fix.applied': 'COMPLIANCE',
  'config.changed': 'CONFIGURATION',
  'access.granted': 'ACCESS',
  'access.revoked': 'ACCESS',
};

/** Every entry of the log that is still there (tamperings applied), oldest first, as the datasource must normalise it. */
export function expectedComplianceAgentEvents(data: ComplianceAgentData, sourceId: string): AuditEventModel[] {
  const events: AuditEventModel[] = [];
  for (let index = 0; index < data.size; index++) {
    const entry = data.entry(index);
    if (entry) events.push(expectedEvent(data, index, entry, sourceId));
  }
  return events;
}

function expectedEvent(data: ComplianceAgentData, index: number, entry: RawAuditLogEntry, sourceId: string): AuditEventModel {
  const chosen = data.attributes(index);
  // A JSON round trip: the ground truth is what a client parses, not the in-memory object.
  const raw = jsonOf(entry);
  const resource = entry.resource;
  return {
    sourceId,
    vendor: 'complianceagent',
    sourceEventId: entry.id,
    action: chosen.eventType,
    category: CATEGORY_OF_TYPE[chosen.eventType],
    occurredAtMs: data.dataset.timeOf(index),
    actor: { sourceId, sourceActorId: chosen.actorId, type: chosen.actorType === 'user' ? 'USER' : 'SYSTEM', name: entry.actor.name ?? null, email: chosen.actorEmail },
    target: resource ? { sourceId, sourceTargetId: resource.id, type: resource.type, name: resource.name ?? null } : null,
    request: {
      ...emptyRequestContext(),
      clientIp: entry.ip_address ?? null,
      userAgent: entry.user_agent ?? null,
      sessionId: entry.session_id ?? null,
      requestId: entry.request_id ?? null,
    },
    repository: { sourceRepositoryId: chosen.repository.id, name: chosen.repository.name },
    details: raw['details'] ?? null,
    integrity: { hash: data.hashOf(index), previousHash: index === 0 ? null : data.hashOf(index - 1) },
    failed: null,
    raw,
  };
}

function jsonOf(entry: RawAuditLogEntry): JsonObject {
  const parsed: unknown = JSON.parse(JSON.stringify(entry));
  if (!isJsonObject(parsed)) throw new Error('a generated entry is not a JSON object');
  return parsed;
}
