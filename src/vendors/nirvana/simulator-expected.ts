import type { ActorType, AuditEventModel, EventCategory } from '../../models/audit-event';
import { isJsonObject, type JsonObject } from '../../models/json';
import type { SyntheticDataset } from '../../simulation/dataset';
import { NirvanaEntry, nirvanaRecord, type NirvanaResource, type NirvanaVerb } from './simulator-data';
import type { RawNirvanaAuditLog } from './wire-types';

/**
 * The ground truth of the Nirvana simulator: the event each generated entry stands for, built from
 * the generator's own choices (resource, verb, actor, status, time) by restating the mapping of
 * `docs/vendors/nirvana.md` for the entries the simulator writes. It never runs the datasource's
 * normaliser (`normalize.ts`): the contract and datasource tests compare what the datasource
 * makes of the wire against this, so a normaliser bug shows as a difference instead of being
 * copied into the expectation.
 *
 * The simulator writes current-API entries only: every entry has an action, an actor with id,
 * name and a listed type, a status, a client address, a user agent, a method and a path; an
 * entry has a target exactly when its request acts on one resource (not a listing).
 */
export function nirvanaExpectedEvent(dataset: SyntheticDataset, index: number, sourceId: string): AuditEventModel {
  const entry = new NirvanaEntry(dataset, index);
  const target = entry.verb === 'listed' ? null : { sourceId, sourceTargetId: entry.targetId, type: entry.resource, name: null };
  return {
    sourceId,
    vendor: 'nirvana',
    sourceEventId: entry.id,
    action: entry.action,
    category: CATEGORY[entry.resource][entry.verb],
    // The simulator writes whole milliseconds, so nothing is truncated.
    occurredAtMs: entry.createdAtMs,
    actor: { sourceId, sourceActorId: entry.actorId, type: ACTOR_TYPE[entry.actorType], name: entry.actorName, email: null },
    target,
    request: {
      clientIp: entry.clientIp,
      userAgent: entry.userAgent,
      httpMethod: entry.method,
      path: entry.path,
      statusCode: entry.statusCode,
      // Nirvana records no session, trace or request id, and no origin.
      sessionId: null,
      traceId: null,
      requestId: null,
      origin: null,
    },
    repository: null,
    details: null,
    integrity: null,
    // "failed" is the vendor's verdict by status (4xx and 5xx failed): the generator's own choice.
    failed: entry.failed,
    raw: asJsonObject(nirvanaRecord(dataset, index)),
  };
}

/** Every entry of `dataset`, oldest first, as {@link nirvanaExpectedEvent}. */
export function nirvanaExpectedEvents(dataset: SyntheticDataset, sourceId: string): AuditEventModel[] {
  return Array.from({ length: dataset.size }, (_, index) => nirvanaExpectedEvent(dataset, index, sourceId));
}

/** The generated record as the JSON object it is on the wire (the same object, not a copy). */
function asJsonObject(record: RawNirvanaAuditLog): JsonObject {
  const value: unknown = record;
  if (!isJsonObject(value)) throw new TypeError('a generated Nirvana record is a JSON object');
  return value;
}

/** The documented actor kinds: `user` and `api_key` (the simulator writes no other). */
const ACTOR_TYPE: Record<'user' | 'api_key', ActorType> = { user: 'USER', api_key: 'API_KEY' };

/**
 * The category of each action the simulator writes: keys are ACCESS, the organisation's users and
 * projects ADMIN, firewall rules SECURITY, whatever the request; other resources are
 * CONFIGURATION when changed and DATA when listed (a GET).
 */
const CATEGORY: Record<NirvanaResource, Record<NirvanaVerb, EventCategory>> = {
  vm: { created: 'CONFIGURATION', updated: 'CONFIGURATION', deleted: 'CONFIGURATION', listed: 'DATA' },
  volume: { created: 'CONFIGURATION', updated: 'CONFIGURATION', deleted: 'CONFIGURATION', listed: 'DATA' },
  vpc: { created: 'CONFIGURATION', updated: 'CONFIGURATION', deleted: 'CONFIGURATION', listed: 'DATA' },
  firewall_rule: { created: 'SECURITY', updated: 'SECURITY', deleted: 'SECURITY', listed: 'SECURITY' },
  api_key: { created: 'ACCESS', updated: 'ACCESS', deleted: 'ACCESS', listed: 'ACCESS' },
  project: { created: 'ADMIN', updated: 'ADMIN', deleted: 'ADMIN', listed: 'ADMIN' },
  user: { created: 'ADMIN', updated: 'ADMIN', deleted: 'ADMIN', listed: 'ADMIN' },
};
