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
   * How long a request waits for upstream answers without a break before its place counts as
   * parked (see {@link AdaptiveConcurrency}); default 50 ms: past a quick upstream's answer, and
   * short beside the time a request holds a place when places are few.
   */
  parkAfterMs?: number;
  /** The clock; tests give their own. */
  now?: () => number;
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

/**
 * A request's place: given back once with {@link release}; {@link awaitingUpstream} tells the
 * limiter while the request can do nothing but wait for upstream answers.
 */
export interface Place {
  release(): void;
  /**
   * The request now waits for an upstream answer; call the function returned when it came (or
   * failed). A request parked meanwhile may get a promise back: it must wait for it before it
   * uses the CPU again (see {@link AdaptiveConcurrency}).
   */
  awaitingUpstream(): () => Promise<void> | undefined;
}

interface Waiter {
  grant: (place: Place | null) => void;
}

/** A place as the limiter tracks it. */
interface Held {
  /** Upstream answers the request waits for now. */
  awaiting: number;
  /** When `awaiting` last rose from 0. */
  awaitingSince: number;
  /** Parked: not counted in `running` until its wait ends. */
  parked: boolean;
  /** While parked with its answers in, waiting to count again: resolves when it does. */
  resumed: { promise: Promise<void>; resolve: () => void } | null;
}

/**
 * How many requests run at once, adjusted to the CPU the process has rather than fixed.
 *
 * A request spends most of its time waiting for upstreams, so a fixed limit is wrong both ways: a
 * high one lets CPU-heavy requests (scans, large batches) share one core so finely that every one
 * of them outlives its upstream deadlines, and a low one leaves requests parked behind a slow
 * upstream holding every slot while the CPU idles. So the limit follows the event loop: when the
 * loop was busy for nearly the whole of the last interval, the limit falls to below what is
 * running (multiplicative decrease); when it was not and requests are waiting, it rises by one,
 * or by a quarter when the loop had plenty of time to spare (quick enough to follow a burst of
 * slow upstream calls).
 * Waiting requests wait here, in arrival order; the caller bounds how many may wait.
 *
 * The limit guards the CPU, so it counts only requests that may use it: one that has done nothing
 * but wait for upstream answers for `parkAfterMs` (a merged page held up by a source answering in
 * seconds) is parked, and its place goes to a waiting request. When its last answer comes it
 * counts again, but only under the limit: it waits for a request to end first, ahead of requests
 * that have not started. Otherwise the answers of slow calls, which often come together (a slow
 * source answers every merged page about as late), would bring a crowd of requests back on top of
 * a saturated CPU at once, and every running request would pay for it in its latency.
 * Parked or not, never more than `max` requests hold places, which bounds memory.
 */
export class AdaptiveConcurrency {
  private current: number;
  /** Places held by requests that are not parked: what the limit bounds. */
  private running = 0;
  private readonly held = new Set<Held>();
  private readonly waiting: Waiter[] = [];
  /** Parked requests whose answers are in, in the order they came, waiting to count again. */
  private readonly resuming: Held[] = [];
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly utilization: () => number;
  private lastUtilization = 0;

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    if (options.min < 1 || options.max < options.min || options.maxWaiting < 0) throw new RangeError('AdaptiveConcurrency needs 1 <= min <= max and maxWaiting >= 0');
    this.current = options.max;
    this.now = options.now ?? Date.now;
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
    return this.resuming.length === 0 && this.waiting.length === 0 && this.placeFree;
  }

  private get placeFree(): boolean {
    return this.running < this.current && this.held.size < this.options.max;
  }

  /** Requests holding a place (parked ones included), those of them parked, and requests waiting for a place, now. */
  get load(): { running: number; parked: number; waiting: number } {
    return { running: this.held.size, parked: this.held.size - this.running, waiting: this.waiting.length };
  }

  /**
   * Waits for a place to run; resolves with it, `full` at once when `maxWaiting` requests already
   * wait, or null when `signal` aborted first (the request then never ran).
   */
  acquire(signal?: AbortSignal): Promise<Place | 'full' | null> {
    if (signal?.aborted) return Promise.resolve(null);
    if (!this.hasRoom) {
      // Places parked since the last adjustment go to those who wait first, then to this one.
      this.park();
      this.admitWaiting();
    }
    if (this.hasRoom) return Promise.resolve(this.take());
    if (this.full) return Promise.resolve('full');
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: (place) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(place);
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
    this.park();
    // A cut takes effect only as running requests end; the next cut waits until it has, or the
    // limit would collapse to `min` while the requests admitted before the first cut finish.
    if (utilization >= BUSY && this.running > min && this.running <= this.current) {
      this.current = Math.max(min, Math.floor(this.running * 0.8));
    } else if (this.waiting.length > 0 && utilization < BUSY) {
      // Not saturated, yet requests wait: one more place (a quarter more when the CPU is well
      // short of busy). Rising only well short of busy would leave a limit cut by one busy
      // interval stuck low while the loop runs at 80 % and the queue grows.
      this.current = Math.min(max, this.current + (utilization < SPARE ? Math.max(1, Math.ceil(this.current / 4)) : 1));
    }
    this.admitWaiting();
  }

  /** Stops adjusting (the process is stopping); parked requests whose answers are in go on at once. */
  close(): void {
    clearInterval(this.timer);
    while (this.resuming.length > 0) this.resume(this.resuming.shift()!);
  }

  private take(): Place {
    const held: Held = { awaiting: 0, awaitingSince: 0, parked: false, resumed: null };
    this.held.add(held);
    this.running += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(held);
        if (held.resumed) {
          // Read-ahead waiting to go on after its request ended: it has no place to wait for.
          this.resuming.splice(this.resuming.indexOf(held), 1);
          held.resumed.resolve();
          held.resumed = null;
        } else if (!held.parked) {
          this.running -= 1;
        }
        this.admitWaiting();
      },
      awaitingUpstream: () => {
        // Read-ahead may outlive its request: a released place has nothing left to track.
        if (released) return () => undefined;
        if (held.awaiting === 0) held.awaitingSince = this.now();
        held.awaiting += 1;
        let answered = false;
        return () => {
          if (answered || released) return undefined;
          answered = true;
          held.awaiting -= 1;
          if (held.awaiting > 0 || !held.parked) return undefined;
          if (held.resumed) return held.resumed.promise;
          if (this.resuming.length === 0 && this.running < this.current) {
            this.resume(held);
            return undefined;
          }
          let resolve!: () => void;
          const promise = new Promise<void>((done) => (resolve = done));
          held.resumed = { promise, resolve };
          this.resuming.push(held);
          return promise;
        };
      },
    };
  }

  /** Parks the places whose requests have waited on upstreams alone for `parkAfterMs`. */
  private park(): void {
    const before = this.now() - (this.options.parkAfterMs ?? 50);
    for (const held of this.held) {
      if (held.parked || held.awaiting === 0 || held.awaitingSince > before) continue;
      held.parked = true;
      this.running -= 1;
    }
  }

  /** A parked request counts again. */
  private resume(held: Held): void {
    held.parked = false;
    this.running += 1;
    held.resumed?.resolve();
    held.resumed = null;
  }

  private admitWaiting(): void {
    while (this.running < this.current && this.resuming.length > 0) this.resume(this.resuming.shift()!);
    if (this.resuming.length > 0) return;
    while (this.placeFree && this.waiting.length > 0) this.waiting.shift()!.grant(this.take());
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
