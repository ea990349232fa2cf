import { actorKey } from '../connection/global-id';
import type { ActorModel, ActorType, AuditEventModel, EventCategory } from '../models/audit-event';

const HOUR_MS = 3_600_000;

/** An actor as the statistics keep it: enough for its global id and its source, nothing an event recorded about it. */
export interface CountedActor {
  actor: ActorModel;
  count: number;
}

/**
 * Counts of one source's events by every key the statistics answer with. Memory grows with the
 * distinct keys (actions, actors, hours), never with the events: each event is added and dropped.
 */
export class Tally {
  total = 0;
  readonly byAction = new Map<string, number>();
  readonly byCategory = new Map<EventCategory, number>();
  readonly byActorType = new Map<ActorType, number>();
  /** By actor key within the source (see `actorKey`). */
  readonly byActor = new Map<string, CountedActor>();
  /** By the start of the UTC hour (ms). */
  readonly byHour = new Map<number, number>();

  constructor(readonly sourceId: string) {}

  add(event: AuditEventModel): void {
    this.total += 1;
    bump(this.byAction, event.action, 1);
    bump(this.byCategory, event.category, 1);
    bump(this.byActorType, event.actor.type, 1);
    bump(this.byHour, Math.floor(event.occurredAtMs / HOUR_MS) * HOUR_MS, 1);
    const key = actorKey(event.actor.sourceActorId, event.actor.type);
    const counted = this.byActor.get(key);
    if (counted) counted.count += 1;
    // Only what identifies the actor is kept: names and emails are per event, and the event goes.
    else this.byActor.set(key, { actor: { sourceId: event.sourceId, sourceActorId: event.actor.sourceActorId, type: event.actor.type, name: null, email: null }, count: 1 });
  }
}

export function bump<K>(map: Map<K, number>, key: K, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}
