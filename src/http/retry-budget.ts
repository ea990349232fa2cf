/** Settings of a {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt counted in the window: 0.1 lets retries add at most 10 % to the calls. */
  ratio: number;
  /** Retries allowed per second of the window whatever the traffic, so that a quiet source can still retry. */
  minPerSecond: number;
  /** How far back attempts are counted, ms; default 10,000. */
  windowMs?: number;
  /** The clock; a test may pass its own. */
  now?: () => number;
}

/** Counters of one slice of the window. */
interface Slot {
  /** Which slice of time (`floor(now / slotMs)`) the counts belong to. */
  index: number;
  firstAttempts: number;
  retries: number;
}

const SLOTS = 10;

/**
 * A retry budget after Finagle's and Envoy's: over the last `windowMs`, a source's retries may
 * number at most `minPerSecond * windowSeconds + ratio * first attempts`. Retries per call alone
 * (`maxRetries`) let a failing upstream get up to (1 + maxRetries) times the traffic just when it
 * is least able to take it; the budget caps the extra load at a fraction of the real calls,
 * whatever their number, while the floor keeps retries possible for a source that is rarely called.
 *
 * The window is kept as ten slices, so memory stays constant whatever the traffic.
 */
export class RetryBudget {
  private readonly slotMs: number;
  private readonly floor: number;
  private readonly slots: Slot[];
  private readonly now: () => number;

  constructor(private readonly options: RetryBudgetOptions) {
    const windowMs = options.windowMs ?? 10_000;
    this.slotMs = windowMs / SLOTS;
    this.floor = options.minPerSecond * (windowMs / 1000);
    this.slots = Array.from({ length: SLOTS }, () => ({ index: -1, firstAttempts: 0, retries: 0 }));
    this.now = options.now ?? Date.now;
  }

  /** Counts a call's first attempt, which earns `ratio` of a retry. */
  recordFirstAttempt(): void {
    this.current().firstAttempts += 1;
  }

  /** Takes one retry from the budget; false, and nothing taken, when it is spent. */
  tryRetry(): boolean {
    const slot = this.current();
    let firstAttempts = 0;
    let retries = 0;
    for (const counted of this.slots) {
      if (counted.index > slot.index - SLOTS) {
        firstAttempts += counted.firstAttempts;
        retries += counted.retries;
      }
    }
    if (retries + 1 > this.floor + this.options.ratio * firstAttempts) return false;
    slot.retries += 1;
    return true;
  }

  private current(): Slot {
    const index = Math.floor(this.now() / this.slotMs);
    const slot = this.slots[index % SLOTS]!;
    if (slot.index !== index) {
      slot.index = index;
      slot.firstAttempts = 0;
      slot.retries = 0;
    }
    return slot;
  }
}
