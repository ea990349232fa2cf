import { bulkhead, BulkheadRejectedError, TaskCancelledError, type BulkheadPolicy } from 'cockatiel';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { SharedStore } from './cache/redis-store';

/** Limits on the GraphQL requests the gateway takes (`server.admission` in the config). */
export interface AdmissionLimits {
  /** GraphQL requests executed at once; default 32. */
  maxInFlight: number;
  /** Requests waiting for a slot; beyond it, the excess is shed with 503; default 64. */
  maxQueued: number;
  /** Requests one client may send a minute (by API key, else by address); null = no limit. */
  perClientPerMinute: number | null;
}

/** Why a request was not admitted: the HTTP answer to give. */
export interface Refusal {
  status: 429 | 503;
  code: 'RATE_LIMITED' | 'OVERLOADED';
  message: string;
  retryAfterSeconds: number;
}

/** The window of `perClientPerMinute`. */
const RATE_WINDOW_MS = 60_000;

/**
 * Admission control in front of GraphQL execution: a per-client rate limit (429 with
 * Retry-After), then a bulkhead that runs `maxInFlight` requests at once, queues `maxQueued`
 * more, and sheds the rest at once (503 with Retry-After) instead of letting every request's
 * latency grow without bound. The rate limit counts in Redis when replicas share one
 * (`shared`: a fixed window per client, counted by every replica), else in rate-limiter-flexible's
 * in-memory limiter, which is also the fallback while Redis is unreachable; the bulkhead is
 * cockatiel's and always per process (it protects this process's CPU and memory).
 */
export class Admission {
  private readonly bulkhead: BulkheadPolicy;
  private readonly perClient: RateLimiterMemory | null;
  private readonly shared: SharedStore | null;

  constructor(
    private readonly limits: AdmissionLimits,
    options: { shared?: SharedStore | null } = {},
  ) {
    this.bulkhead = bulkhead(limits.maxInFlight, limits.maxQueued);
    this.perClient = limits.perClientPerMinute === null ? null : new RateLimiterMemory({ points: limits.perClientPerMinute, duration: RATE_WINDOW_MS / 1000 });
    this.shared = options.shared ?? null;
  }

  /** Requests executing and waiting for a slot now, for the metrics. */
  get load(): { running: number; queued: number } {
    return { running: this.limits.maxInFlight - this.bulkhead.executionSlots, queued: this.limits.maxQueued - this.bulkhead.queueSlots };
  }

  /**
   * Runs `work` if `client` may send a request now and there is room; otherwise the refusal. A
   * request still queued when `deadline` aborts leaves the queue, refused as overloaded.
   */
  async run<T>(client: string, work: () => Promise<T>, deadline?: AbortSignal): Promise<{ admitted: true; value: T } | { admitted: false; refusal: Refusal }> {
    const waitMs = await this.rateLimited(client);
    if (waitMs !== null) {
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      return { admitted: false, refusal: { status: 429, code: 'RATE_LIMITED', message: `too many requests from this client; retry after ${retryAfterSeconds} s`, retryAfterSeconds } };
    }
    const overloaded = { admitted: false as const, refusal: { status: 503 as const, code: 'OVERLOADED' as const, message: 'the gateway is at capacity; retry shortly', retryAfterSeconds: 1 } };
    let started = false;
    const running = this.bulkhead.execute(() => {
      started = true;
      return work();
    }, deadline);
    // cockatiel looks at the signal only when a slot frees: answer a request whose deadline passed
    // in the queue at once, and let the bulkhead drop it later.
    const leftQueue = new Promise<'deadline'>((resolve) => {
      if (!deadline) return;
      const onAbort = () => {
        if (!started) resolve('deadline');
      };
      if (deadline.aborted) onAbort();
      else deadline.addEventListener('abort', onAbort, { once: true });
      void running.finally(() => deadline.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
    try {
      const outcome = await Promise.race([running.then((value) => ({ value })), leftQueue]);
      if (outcome === 'deadline') {
        running.catch(() => undefined);
        return overloaded;
      }
      return { admitted: true, value: outcome.value };
    } catch (error) {
      if (!(error instanceof BulkheadRejectedError) && !(error instanceof TaskCancelledError)) throw error;
      return overloaded;
    }
  }

  /** Null when `client` may send a request now, else the milliseconds until it may. */
  private async rateLimited(client: string): Promise<number | null> {
    const limit = this.limits.perClientPerMinute;
    if (!this.perClient || limit === null) return null;
    if (this.shared) {
      try {
        const { count, resetInMs } = await this.shared.hitWindow(`rate:${client}`, RATE_WINDOW_MS);
        return count > limit ? resetInMs : null;
      } catch {
        // Redis is unreachable (the store logged it): this replica counts on its own meanwhile.
      }
    }
    try {
      await this.perClient.consume(client);
      return null;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection.msBeforeNext;
    }
  }
}
