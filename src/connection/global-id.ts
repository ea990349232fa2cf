import { GenerationalCache } from '../cache/generational-cache';
import { badUserInput } from '../errors';
import type { ActorModel, AuditEventModel } from '../models/audit-event';

/**
 * Global object ids. Relay and Apollo Client normalise their caches by id, so every id names its
 * type and source: actor "123" of two vendors are two objects. The encoding is base64url of a
 * JSON array, opaque to clients but stable.
 */
export type GlobalId =
  | { type: 'AuditEvent'; sourceId: string; occurredAtMs: number; sourceEventId: string }
  | { type: 'Actor'; sourceId: string; actorKey: string }
  | { type: 'Target'; sourceId: string; targetType: string; sourceTargetId: string }
  | { type: 'Source'; sourceId: string }
  | { type: 'EvidenceExport'; sourceId: string; jobId: string };

type Encoded = [string, ...(string | number)[]];

export function encodeGlobalId(id: GlobalId): string {
  let parts: Encoded;
  switch (id.type) {
    case 'AuditEvent':
      parts = ['E', id.sourceId, id.occurredAtMs, id.sourceEventId];
      break;
    case 'Actor':
      parts = ['A', id.sourceId, id.actorKey];
      break;
    case 'Target':
      parts = ['T', id.sourceId, id.targetType, id.sourceTargetId];
      break;
    case 'Source':
      parts = ['S', id.sourceId];
      break;
    case 'EvidenceExport':
      parts = ['X', id.sourceId, id.jobId];
      break;
    default: {
      const unreachable: never = id;
      return unreachable;
    }
  }
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** Decodes a global id; throws BAD_USER_INPUT (reason INVALID_ID) for anything else. */
export function decodeGlobalId(text: string): GlobalId {
  const invalid = () => badUserInput(`'${text.slice(0, 80)}' is not a valid id`, 'INVALID_ID');
  if (text.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parts)) throw invalid();
  const [tag, ...rest] = parts as unknown[];
  const strings = (count: number) => rest.length === count && rest.every((part) => typeof part === 'string' && part.length > 0);
  if (tag === 'E' && rest.length === 3 && typeof rest[0] === 'string' && Number.isSafeInteger(rest[1]) && typeof rest[2] === 'string') {
    return { type: 'AuditEvent', sourceId: rest[0], occurredAtMs: rest[1] as number, sourceEventId: rest[2] };
  }
  if (tag === 'A' && strings(2)) return { type: 'Actor', sourceId: rest[0] as string, actorKey: rest[1] as string };
  if (tag === 'T' && strings(3)) {
    return { type: 'Target', sourceId: rest[0] as string, targetType: rest[1] as string, sourceTargetId: rest[2] as string };
  }
  if (tag === 'S' && strings(1)) return { type: 'Source', sourceId: rest[0] as string };
  if (tag === 'X' && strings(2)) return { type: 'EvidenceExport', sourceId: rest[0] as string, jobId: rest[1] as string };
  throw invalid();
}

/** An actor's key within its source: its vendor id, or `~TYPE` for actors the vendor gives no id. */
export function actorKey(sourceActorId: string | null, type: string): string {
  return sourceActorId ?? `~${type}`;
}

/**
 * The global id of an actor. Every listed event shows its actor, and a source has few actors next
 * to its events, so `known` (the gateway's cache of ids seen lately) saves encoding most of them again.
 */
export function actorGlobalId(actor: ActorModel, known?: GenerationalCache<string, string>): string {
  const key = actorKey(actor.sourceActorId, actor.type);
  const cacheKey = `${actor.sourceId}\u0000${key}`;
  let id = known?.get(cacheKey);
  if (id === undefined) {
    id = encodeGlobalId({ type: 'Actor', sourceId: actor.sourceId, actorKey: key });
    known?.set(cacheKey, id);
  }
  return id;
}

/** The global id of an event, encoded once per event object (listed events are shown and remembered). */
export function eventGlobalId(event: AuditEventModel): string {
  return (event.globalId ??= encodeGlobalId({
    type: 'AuditEvent',
    sourceId: event.sourceId,
    occurredAtMs: event.occurredAtMs,
    sourceEventId: event.sourceEventId,
  }));
}
