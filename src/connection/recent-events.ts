import type { AuditEventModel } from '../models/audit-event';
import { GenerationalCache } from '../cache/generational-cache';

/** Options for {@link RecentEvents}. */
export interface RecentEventsOptions {
  /** Events kept: at least the last `maxEvents / 2` remembered, never more than `maxEvents`; default 10,000. */
  maxEvents?: number;
}

/**
 * Events recently listed, by global id: `node(id)` right after a list is then free, and vendors
 * without a get-by-id are not asked again for what the gateway just showed.
 *
 * Synchronous and in-process on purpose: every listed event passes through here, and an
 * asynchronous store costs a promise per event on every page. The events are the same objects
 * the batch cache holds, so the two share their memory while both keep them. Bounded by count
 * only, with no time to live: an audit record does not change once written.
 */
export class RecentEvents {
  private readonly events: GenerationalCache<string, AuditEventModel>;

  constructor(options: RecentEventsOptions = {}) {
    this.events = new GenerationalCache(Math.max(1, Math.floor((options.maxEvents ?? 10_000) / 2)));
  }

  remember(id: string, event: AuditEventModel): void {
    this.events.set(id, event);
  }

  get(id: string): AuditEventModel | undefined {
    return this.events.get(id);
  }
}
