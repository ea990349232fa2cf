import { emptyRequestContext, type ActorModel, type ActorType, type AuditEventModel, type EventCategory, type TargetModel } from '../../models/audit-event';
import type { JsonObject } from '../../models/json';
import type { PortAction, PortResourceType } from './wire-types';

/*
 * The simulator's ground truth, kept apart from `normalize.ts` on purpose: each event is built
 * from what the generator chose, by the mapping docs/vendors/port.md states, restated here for
 * the records the simulator generates. Were it computed by the normaliser, a fault in the
 * normaliser would be in the ground truth too, and every test comparing against it would pass.
 */

/** Who made a change, as the generator drew it: a person, a machine client (an integration, a CI job), or Port itself. */
export type PortActorKind = 'person' | 'client' | 'port';

/** What a change was made to, as the generator drew it. */
export interface PortResourceChoice {
  /** The resource's own id (an entity's identifier, a run's id, …). */
  id: string;
  /** The blueprint of an entity, the action of a run; null for other resources. */
  subtype: string | null;
  /** The title its snapshot carries; null for resources without one. */
  name: string | null;
}

/** One generated record and the choices it was made from. */
export interface GeneratedPortRecord {
  /** The record as served, as JSON. */
  raw: JsonObject;
  identifier: string;
  atMs: number;
  resourceType: PortResourceType;
  action: PortAction;
  status: 'SUCCESS' | 'FAILURE';
  actor: { kind: PortActorKind; userId: string | null; orgId: string };
  /** `trigger.origin`: `UI`, `API`, or the integration the change came through. */
  origin: string;
  resource: PortResourceChoice;
}

const PAST_TENSE: Record<PortAction, string> = { CREATE: 'created', UPDATE: 'updated', DELETE: 'deleted' };

/** Entities and runs are the catalog's data; every other resource is how Port is set up. */
const CATEGORIES: Record<PortResourceType, EventCategory> = {
  entity: 'DATA',
  run: 'DATA',
  blueprint: 'CONFIGURATION',
  action: 'CONFIGURATION',
  scorecard: 'CONFIGURATION',
  webhook: 'CONFIGURATION',
  integration: 'CONFIGURATION',
};

/** A client-credentials caller (`…@clients`) is a service account; Port's own changes carry no user. */
const ACTOR_TYPES: Record<PortActorKind, ActorType> = { person: 'USER', client: 'SERVICE_ACCOUNT', port: 'SYSTEM' };

/** Origins that name a channel; any other origin is the integration the actor acted through. */
const CHANNELS: ReadonlySet<string> = new Set(['UI', 'API', 'AUTOMATION']);

/** The event the Port datasource must make of a generated record. */
export function expectedPortEvent(generated: GeneratedPortRecord, sourceId: string): AuditEventModel {
  const request = emptyRequestContext();
  request.origin = generated.origin;
  return {
    sourceId,
    vendor: 'port',
    sourceEventId: generated.identifier,
    action: `${generated.resourceType}.${PAST_TENSE[generated.action]}`,
    category: CATEGORIES[generated.resourceType],
    occurredAtMs: generated.atMs,
    actor: expectedActor(generated, sourceId),
    target: expectedTarget(generated, sourceId),
    request,
    details: expectedDetails(generated.raw),
    repository: null,
    integrity: null,
    failed: generated.status === 'FAILURE',
    raw: generated.raw,
  };
}

function expectedActor({ actor, origin }: GeneratedPortRecord, sourceId: string): ActorModel {
  return {
    sourceId,
    sourceActorId: actor.userId,
    type: ACTOR_TYPES[actor.kind],
    // Port records no actor name or email.
    name: null,
    email: null,
    organizationId: actor.orgId,
    application: CHANNELS.has(origin) ? null : origin,
  };
}

function expectedTarget({ resource, resourceType }: GeneratedPortRecord, sourceId: string): TargetModel {
  // Only entities of Port's `_user` blueprint have an email, and the generator makes none.
  return { sourceId, sourceTargetId: resource.id, type: resourceType, name: resource.name, subtype: resource.subtype, email: null };
}

/** `diff`, `context`, `message` and `additionalData` of the record, each when it has one. */
function expectedDetails(raw: JsonObject): JsonObject {
  const details: JsonObject = {};
  for (const key of ['diff', 'context', 'message', 'additionalData']) {
    const value = raw[key];
    if (value !== undefined && value !== null) details[key] = value;
  }
  return details;
}
