import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Options of {@link AdaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** The most requests that ever run at once. */
  max: number;
  /** The fewest the limit falls to, however busy the process is. */
  min: number;
  /** The most requests that wait for a place; beyond it, {@link AdaptiveConcurrency.acquire} answers `full` at once. */
  maxWaiting: number;
  /** How often the limit is adjusted; default 100 ms. */
  sampleMs?: number;
  /**
   * The share of the last interval the event loop was busy (0 to 1). Default: the process's
   * event-loop utilisation; tests give their own.
   */
  utilization?: () => number;
}

/** Event-loop utilisation at or above which the process has no CPU to spare. */
const BUSY = 0.9;
/** Below this, the process has CPU to spare for more requests at once. */
const SPARE = 0.75;

interface Waiter {
  grant: (release: (() => void) | null) => void;
}

/**
 * How many requests run at once, adjusted to the CPU the process has rather than fixed.
 *
 * A request spends most of its time waiting for upstreams, so a fixed limit is wrong both ways: a
 * high one lets CPU-heavy requests (scans, large batches) share one core so finely that every one
 * of them outlives its upstream deadlines, and a low one leaves requests parked behind a slow
 * upstream holding every slot while the CPU idles. So the limit follows the event loop: when the
 * loop was busy for nearly the whole of the last interval, the limit falls to below what is
 * running (multiplicative decrease); when there was time to spare and requests are waiting, it
 * rises by a quarter (additive in spirit, quick enough to follow a burst of slow upstream calls).
 * Waiting requests wait here, in arrival order; the caller bounds how many may wait.
 */
export class AdaptiveConcurrency {
  private current: number;
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly utilization: () => number;
  private lastUtilization = 0;

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    if (options.min < 1 || options.max < options.min || options.maxWaiting < 0) throw new RangeError('AdaptiveConcurrency needs 1 <= min <= max and maxWaiting >= 0');
    this.current = options.max;
    this.utilization = options.utilization ?? loopUtilization();
    this.timer = setInterval(() => this.adjust(this.utilization()), options.sampleMs ?? 100);
    this.timer.unref();
  }

  /** The limit now. */
  get limit(): number {
    return this.current;
  }

  /**
   * Whether the event loop had time to spare over the last interval: work that only might be
   * needed (reading ahead) is worth starting then, and only takes CPU from admitted requests when
   * it has none.
   */
  get spare(): boolean {
    return this.lastUtilization < SPARE;
  }

  /** Whether {@link acquire} would answer `full` now. */
  get full(): boolean {
    return !this.hasRoom && this.waiting.length >= this.options.maxWaiting;
  }

  /** Whether a request arriving now runs at once: a place is free and nobody waits before it. */
  private get hasRoom(): boolean {
    return this.running < this.current && this.waiting.length === 0;
  }

  /** Requests running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Waits for a place to run; resolves with the function that gives it back, `full` at once when
   * `maxWaiting` requests already wait, or null when `signal` aborted first (the request then
   * never ran).
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | 'full' | null> {
    if (signal?.aborted) return Promise.resolve(null);
    if (this.hasRoom) return Promise.resolve(this.take());
    if (this.full) return Promise.resolve('full');
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Moves the limit after an interval in which the loop was busy `utilization` of the time. */
  adjust(utilization: number): void {
    const { min, max } = this.options;
    this.lastUtilization = utilization;
    // A cut takes effect only as running requests end; the next cut waits until it has, or the
    // limit would collapse to `min` while the requests admitted before the first cut finish.
    if (utilization >= BUSY && this.running > min && this.running <= this.current) {
      this.current = Math.max(min, Math.floor(this.running * 0.8));
    } else if (utilization < SPARE && this.waiting.length > 0) {
      this.current = Math.min(max, this.current + Math.max(1, Math.ceil(this.current / 4)));
      this.admitWaiting();
    }
  }

  /** Stops adjusting (the process is stopping). */
  close(): void {
    clearInterval(this.timer);
  }

  private take(): () => void {
    this.running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.running < this.current && this.waiting.length > 0) this.waiting.shift()!.grant(this.take());
  }
}

/** The event loop's utilisation since the previous call. */
function loopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}
