import { setTimeout as sleep } from 'node:timers/promises';
import { deadlineSignal } from './deadline';

/** Thrown by {@link RateLimitGate.enter} when the gate opens only after the caller's deadline. */
export class GateClosedError extends Error {
  constructor(
    /** How long the gate stays closed, ms; undefined when it waits for a probe, not for an instant. */
    readonly waitMs: number | undefined,
  ) {
    super('rate-limit gate closed');
    this.name = 'GateClosedError';
  }
}

/** Leave to send one request; {@link done} must be called once it is answered or given up. */
export interface GatePass {
  /** True when this request is the one probe after a wait. */
  readonly probe: boolean;
  /**
   * `limitedAgain`: the upstream still rate limits (or the probe was never sent), so the next
   * waiting caller probes instead; false lets every waiting caller through.
   */
  done(limitedAgain: boolean): void;
}

const OPEN: GatePass = { probe: false, done: () => undefined };

/**
 * The rate limit of one source, shared by every call to it. A 429 or 503 that says when to come
 * back (Retry-After) closes the gate until that instant for all callers, not only the one that got
 * it: each waits for the same instant, or fails at once when that lies past its own deadline.
 * When the instant comes, one caller goes first as a probe and the others wait for its answer:
 * only when the upstream no longer limits do they follow. Without this, every caller that was
 * refused retries at the same instant, and the upstream sees the burst that got it to refuse.
 */
export class RateLimitGate {
  private closedUntilMs = 0;
  /** Set by a rate limit; cleared by the first answer after it that is not one. */
  private limited = false;
  /** Settles when the probe in flight is answered or given up. */
  private probe: Promise<void> | null = null;

  /** Closes the gate until `untilMs` (ms since the epoch); a later instant already set wins. */
  closeUntil(untilMs: number): void {
    this.closedUntilMs = Math.max(this.closedUntilMs, untilMs);
    this.limited = true;
  }

  /** ms until the gate opens; 0 when it is open. */
  closedForMs(now: number = Date.now()): number {
    return Math.max(0, this.closedUntilMs - now);
  }

  /**
   * Resolves when the caller may send. Rejects with {@link GateClosedError} when it could only send
   * after `deadlineMs`, and with the signal's reason when `signal` aborts.
   */
  async enter(signal: AbortSignal, deadlineMs: number): Promise<GatePass> {
    for (;;) {
      signal.throwIfAborted();
      const now = Date.now();
      if (this.closedUntilMs > now) {
        if (this.closedUntilMs >= deadlineMs) throw new GateClosedError(this.closedUntilMs - now);
        await sleep(this.closedUntilMs - now, undefined, { signal });
        continue;
      }
      if (!this.limited) return OPEN;
      if (this.probe) {
        await settledBefore(this.probe, signal, deadlineMs - now);
        continue;
      }
      return this.startProbe();
    }
  }

  private startProbe(): GatePass {
    let settle: () => void = () => undefined;
    const probe = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.probe = probe;
    let settled = false;
    return {
      probe: true,
      done: (limitedAgain) => {
        if (settled) return;
        settled = true;
        if (!limitedAgain) this.limited = false;
        if (this.probe === probe) this.probe = null;
        settle();
      },
    };
  }
}

/** Waits for `probe`; rejects when `signal` aborts, or with {@link GateClosedError} after `ms`. */
async function settledBefore(probe: Promise<void>, signal: AbortSignal, ms: number): Promise<void> {
  if (ms <= 0) throw new GateClosedError(undefined);
  const wait = deadlineSignal(signal, ms);
  try {
    await new Promise<void>((resolve, reject) => {
      void probe.then(resolve);
      wait.signal.addEventListener(
        'abort',
        () => reject(signal.aborted ? signal.reason : new GateClosedError(undefined)),
        { once: true },
      );
    });
  } finally {
    wait.release();
  }
}
