import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AdaptiveConcurrency, type Place } from './adaptive-concurrency';
import type { SharedStore } from './cache/redis-store';

/** Limits on the GraphQL requests the gateway takes (`server.admission` in the config). */
export interface AdmissionLimits {
  /**
   * The most GraphQL requests executed at once; default 32. Fewer run while the process has no
   * CPU to spare (see {@link AdaptiveConcurrency}), never fewer than {@link MIN_IN_FLIGHT}.
   */
  maxInFlight: number;
  /** Requests waiting for a slot; beyond it, the excess is shed with 503; default 64. */
  maxQueued: number;
  /**
   * Requests one client may send a minute (by API key, else by address); null = no limit, the
   * default: an address may be a whole office behind one proxy, and a sync or a benchmark may
   * rightly send thousands a second. Set it where callers have their own keys.
   */
  perClientPerMinute: number | null;
  /**
   * Cost points (`operationCost`, the figure `maxCost` bounds) one client may spend an hour; null
   * or absent = no budget, the default (for the reasons of `perClientPerMinute`). 1,000,000 is a
   * sensible budget for callers with keys: 100 maximal requests an hour but 10,000 pages of 100
   * events; a dashboard of ten 100-event panels refreshed every 30 s spends 120,000. Optional so
   * that limits built in code (benchmarks, tests) may leave it out.
   */
  costPerHour?: number | null;
}

/** Why a request was not admitted: the HTTP answer to give. */
export interface Refusal {
  status: 429 | 503;
  code: 'RATE_LIMITED' | 'OVERLOADED';
  message: string;
  retryAfterSeconds: number;
}

/** Where a caller stands against its limit, as the `x-ratelimit-*` headers tell it. */
export interface RateLimitStatus {
  /** `cost` for the budget of `costPerHour`, `requests` for `perClientPerMinute`. */
  resource: 'cost' | 'requests';
  limit: number;
  used: number;
  remaining: number;
  /** When the window ends and `remaining` is `limit` again (epoch ms). */
  resetAtMs: number;
}

/** An operation refused because the caller has less of its budget left than the operation costs. */
export interface BudgetRefusal {
  cost: number;
  remaining: number;
  limit: number;
  retryAfterSeconds: number;
}

/** The fewest requests run at once however busy the process is: one computes while another waits for its upstreams. */
export const MIN_IN_FLIGHT = 2;

/** The window of `perClientPerMinute`. */
const RATE_WINDOW_MS = 60_000;
/** The window of `costPerHour`. */
const COST_WINDOW_MS = 3_600_000;

/** The `x-ratelimit-*` headers GitHub's API sends, `reset` in UTC epoch seconds. */
export function rateLimitHeaders(status: RateLimitStatus): Record<string, string> {
  return {
    'x-ratelimit-limit': String(status.limit),
    'x-ratelimit-remaining': String(status.remaining),
    'x-ratelimit-used': String(status.used),
    'x-ratelimit-reset': String(Math.ceil(status.resetAtMs / 1000)),
    'x-ratelimit-resource': status.resource,
  };
}

/**
 * One request's view of its caller's limits: what the cost-limit plugin spends the operation's
 * cost from, and what the response's `x-ratelimit-*` headers are made of. Made by
 * {@link Admission.run} for each request, with the caller's key.
 */
export class CallerBudget {
  private costStatus: RateLimitStatus | null = null;

  constructor(
    private readonly admission: Admission,
    /** The caller, as `perClientPerMinute` counts it. */
    readonly client: string,
    /** Where the caller stands against `perClientPerMinute` after this request; null without that limit. */
    private readonly requests: RateLimitStatus | null,
  ) {}

  /** Spends `cost` from the caller's budget, or answers why not (spending nothing). */
  async spend(cost: number): Promise<BudgetRefusal | null> {
    const outcome = await this.admission.spend(this.client, cost);
    if (!outcome) return null;
    this.costStatus = outcome.status;
    return outcome.refusal;
  }

  /**
   * The `x-ratelimit-*` headers: the cost budget where there is one (the per-minute limit still
   * refuses with its own Retry-After), else the per-minute count; none without either limit.
   */
  async headers(): Promise<Record<string, string>> {
    // A request that spent nothing (refused before its operation resolved) still learns where it stands.
    this.costStatus ??= await this.admission.costStatusOf(this.client);
    const status = this.costStatus ?? this.requests;
    return status ? rateLimitHeaders(status) : {};
  }
}

/** What a request the bulkhead has no room for gets. */
const OVERLOADED: Refusal = { status: 503, code: 'OVERLOADED', message: 'the gateway is at capacity; retry shortly', retryAfterSeconds: 1 };

/**
 * Admission control in front of GraphQL execution: a per-client rate limit (429 with
 * Retry-After), then a bulkhead that runs up to `maxInFlight` requests at once (fewer while the
 * CPU is saturated: {@link AdaptiveConcurrency}), queues `maxQueued` more, and sheds the rest at
 * once (503 with Retry-After) instead of letting every request's latency grow without bound. Each admitted operation then spends its cost from its client's
 * budget of the hour ({@link spend}, called once the cost is known, before anything runs).
 * The rate limit and the budget count in Redis when replicas share one (`shared`: a fixed window
 * per client, counted by every replica), else in rate-limiter-flexible's in-memory limiters, which
 * are also the fallback while Redis is unreachable; the bulkhead is always per process (it
 * protects this process's CPU and memory).
 */
export class Admission {
  private readonly bulkhead: AdaptiveConcurrency;
  private readonly perClient: RateLimiterMemory | null;
  private readonly costBudget: RateLimiterMemory | null;
  private readonly shared: SharedStore | null;

  constructor(
    private readonly limits: AdmissionLimits,
    options: { shared?: SharedStore | null } = {},
  ) {
    this.bulkhead = new AdaptiveConcurrency({ max: limits.maxInFlight, min: Math.min(limits.maxInFlight, MIN_IN_FLIGHT), maxWaiting: limits.maxQueued });
    this.perClient = limits.perClientPerMinute === null ? null : new RateLimiterMemory({ points: limits.perClientPerMinute, duration: RATE_WINDOW_MS / 1000 });
    const costPerHour = limits.costPerHour ?? null;
    this.costBudget = costPerHour === null ? null : new RateLimiterMemory({ points: costPerHour, duration: COST_WINDOW_MS / 1000 });
    this.shared = options.shared ?? null;
  }

  /**
   * Requests executing (parked ones included), those parked on slow upstreams, and waiting for a
   * slot now, and how many unparked ones may execute at once now, for the metrics.
   */
  get load(): { running: number; parked: number; queued: number; limit: number } {
    const { running, parked, waiting } = this.bulkhead.load;
    return { running, parked, queued: waiting, limit: this.bulkhead.limit };
  }

  /** Whether the process has CPU to spare now (see {@link AdaptiveConcurrency.spare}). */
  get spare(): boolean {
    return this.bulkhead.spare;
  }

  /** Stops adapting the limit (the server is stopping). */
  close(): void {
    this.bulkhead.close();
  }

  /**
   * Runs `work` if `client` may send a request now and there is room; otherwise the refusal. A
   * request still queued when `deadline` aborts leaves the queue, refused as overloaded. Either
   * way with the request's {@link CallerBudget}, which `work` spends from and the answer's
   * headers are made of. `work` gets its place too, to say when it waits for upstreams.
   */
  async run<T>(
    client: string,
    work: (budget: CallerBudget, place: Place) => Promise<T>,
    deadline?: AbortSignal,
  ): Promise<{ admitted: true; value: T; budget: CallerBudget } | { admitted: false; refusal: Refusal; budget: CallerBudget }> {
    const { budget, refusal } = await this.rateLimitedRefusal(client);
    if (refusal) return { admitted: false, budget, refusal };
    const overloaded = { admitted: false as const, budget, refusal: OVERLOADED };
    // A request still queued when its deadline passes leaves the queue at once.
    const place = await this.bulkhead.acquire(deadline);
    if (place === null || place === 'full') return overloaded;
    try {
      return { admitted: true, value: await work(budget, place), budget };
    } finally {
      place.release();
    }
  }

  /**
   * The refusal {@link run} would answer now, when it would refuse without queueing: the client
   * is over its rate, or the bulkhead and its queue are full. Null when it might admit. The
   * server asks this before it sets up a request's deadline and tracing, so that shedding under
   * overload costs as little as it can.
   */
  async refusalAtOnce(client: string): Promise<{ refusal: Refusal; budget: CallerBudget } | null> {
    if (!this.bulkhead.full) return null;
    const { budget, refusal } = await this.rateLimitedRefusal(client);
    return { refusal: refusal ?? OVERLOADED, budget };
  }

  /** Counts the request against `client`'s rate; the 429 when it is over. */
  private async rateLimitedRefusal(client: string): Promise<{ budget: CallerBudget; refusal: Refusal | null }> {
    const limited = await this.rateLimited(client);
    const budget = new CallerBudget(this, client, limited?.status ?? null);
    if (!limited || limited.waitMs === null) return { budget, refusal: null };
    const retryAfterSeconds = Math.max(1, Math.ceil(limited.waitMs / 1000));
    return { budget, refusal: { status: 429, code: 'RATE_LIMITED', message: `too many requests from this client; retry after ${retryAfterSeconds} s`, retryAfterSeconds } };
  }

  /**
   * Spends `cost` from `client`'s budget of the hour, or, when less than `cost` is left, refuses
   * and spends nothing: a refused operation never runs, so it must not make the wait longer.
   * Null without a budget.
   */
  async spend(client: string, cost: number): Promise<{ refusal: BudgetRefusal | null; status: RateLimitStatus } | null> {
    const limit = this.limits.costPerHour ?? null;
    if (!this.costBudget || limit === null) return null;
    if (cost <= 0) return { refusal: null, status: await this.peekCost(client, limit, this.costBudget) };
    if (this.shared) {
      try {
        const { spent, count, resetInMs } = await this.shared.spendWindow(`cost:${client}`, COST_WINDOW_MS, cost, limit);
        const status = statusOf('cost', limit, count, resetInMs, COST_WINDOW_MS);
        return { refusal: spent ? null : budgetRefusal(cost, status), status };
      } catch {
        // Redis is unreachable (the store logged it): this replica counts on its own meanwhile.
      }
    }
    try {
      const spent = await this.costBudget.consume(client, cost);
      return { refusal: null, status: statusOf('cost', limit, spent.consumedPoints, spent.msBeforeNext, COST_WINDOW_MS) };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // The limiter counts what it refuses: give it back.
      const restored = await this.costBudget.reward(client, cost);
      const status = statusOf('cost', limit, restored.consumedPoints, restored.msBeforeNext, COST_WINDOW_MS);
      return { refusal: budgetRefusal(cost, status), status };
    }
  }

  /** Where `client` stands against its cost budget, spending nothing (and starting no window); null without a budget. */
  async costStatusOf(client: string): Promise<RateLimitStatus | null> {
    const limit = this.limits.costPerHour ?? null;
    return this.costBudget && limit !== null ? this.peekCost(client, limit, this.costBudget) : null;
  }

  private async peekCost(client: string, limit: number, local: RateLimiterMemory): Promise<RateLimitStatus> {
    if (this.shared) {
      try {
        const { count, resetInMs } = await this.shared.spendWindow(`cost:${client}`, COST_WINDOW_MS, 0);
        return statusOf('cost', limit, count, resetInMs, COST_WINDOW_MS);
      } catch {
        // Redis is unreachable: what this replica counted meanwhile.
      }
    }
    const current = await local.get(client);
    return statusOf('cost', limit, current?.consumedPoints ?? 0, current?.msBeforeNext ?? 0, COST_WINDOW_MS);
  }

  /**
   * Counts a request of `client` against `perClientPerMinute`: null without that limit, else
   * where the client stands and, when it is over the limit, the milliseconds until it may send again.
   */
  private async rateLimited(client: string): Promise<{ waitMs: number | null; status: RateLimitStatus } | null> {
    const limit = this.limits.perClientPerMinute;
    if (!this.perClient || limit === null) return null;
    if (this.shared) {
      try {
        const { count, resetInMs } = await this.shared.hitWindow(`rate:${client}`, RATE_WINDOW_MS);
        return { waitMs: count > limit ? resetInMs : null, status: statusOf('requests', limit, count, resetInMs, RATE_WINDOW_MS) };
      } catch {
        // Redis is unreachable (the store logged it): this replica counts on its own meanwhile.
      }
    }
    try {
      const counted = await this.perClient.consume(client);
      return { waitMs: null, status: statusOf('requests', limit, counted.consumedPoints, counted.msBeforeNext, RATE_WINDOW_MS) };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return { waitMs: rejection.msBeforeNext, status: statusOf('requests', limit, rejection.consumedPoints, rejection.msBeforeNext, RATE_WINDOW_MS) };
    }
  }
}

/**
 * A status from a window's count and time left. A window that has ended (or not begun) is a
 * fresh one: a request now would start it, so it resets a whole window from now.
 */
function statusOf(resource: RateLimitStatus['resource'], limit: number, count: number, resetInMs: number, windowMs: number): RateLimitStatus {
  const now = Date.now();
  if (resetInMs <= 0) return { resource, limit, used: 0, remaining: limit, resetAtMs: now + windowMs };
  // Refused requests are counted too (the per-minute window): the headers never claim more than the limit was used.
  const used = Math.min(limit, Math.max(0, count));
  return { resource, limit, used, remaining: limit - used, resetAtMs: now + resetInMs };
}

function budgetRefusal(cost: number, status: RateLimitStatus): BudgetRefusal {
  return { cost, remaining: status.remaining, limit: status.limit, retryAfterSeconds: Math.max(1, Math.ceil((status.resetAtMs - Date.now()) / 1000)) };
}
