import type { SharedStore } from '../cache/redis-store';

/**
 * Open circuits that replicas tell each other about. Each replica keeps its own breaker
 * (cockatiel); when one opens, the others learn until when, and fail that source's calls at once
 * too instead of each spending `threshold` calls (and their retries and timeouts) finding out.
 */
export interface SharedCircuitState {
  /** Until when (epoch ms) some replica's circuit of `sourceId` is open, or null. Never throws: unknown is null. */
  openUntil(sourceId: string): Promise<number | null>;
  /** This replica's circuit of `sourceId` opened, until `untilMs`. */
  opened(sourceId: string, untilMs: number): Promise<void>;
  /** This replica's probe succeeded: the upstream answers again. */
  closed(sourceId: string): Promise<void>;
}

/** {@link SharedCircuitState} in Redis: one key per source holding the instant, expiring at it. */
export class RedisCircuitState implements SharedCircuitState {
  constructor(private readonly store: SharedStore) {}

  async openUntil(sourceId: string): Promise<number | null> {
    try {
      const text = await this.store.get(keyOf(sourceId));
      const untilMs = text === null ? NaN : Number(text);
      return Number.isFinite(untilMs) && untilMs > Date.now() ? untilMs : null;
    } catch {
      // Redis unreachable (logged by the store): this replica's own breaker decides alone.
      return null;
    }
  }

  async opened(sourceId: string, untilMs: number): Promise<void> {
    const ttlMs = untilMs - Date.now();
    if (ttlMs <= 0) return;
    await this.store.set(keyOf(sourceId), String(untilMs), { ttlMs }).catch(() => undefined);
  }

  async closed(sourceId: string): Promise<void> {
    await this.store.delete(keyOf(sourceId)).catch(() => undefined);
  }
}

function keyOf(sourceId: string): string {
  return `circuit:${sourceId}`;
}
