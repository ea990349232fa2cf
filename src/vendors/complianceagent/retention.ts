/** How long an answer of the vendor's retention policy is trusted before it is asked again. */
export const RETENTION_TTL_MS = 10 * 60_000;

/**
 * How long a failed read leaves the last known value standing before the policy is asked again.
 * The gateway wants the retention period on every page whose window has a start, so without a
 * pause a failing endpoint would add a request (and its retries) to each of those pages.
 */
export const RETENTION_RETRY_MS = 60_000;

/** What {@link CachedRetention} needs from its datasource. */
export interface CachedRetentionOptions {
  /** Reads the policy's retention period (null when the policy names none); throws on failure. */
  read(signal: AbortSignal): Promise<number | null>;
  /** Told of each failed read. */
  onFailure(error: unknown): void;
  /** Deadline of one shared read, ms: no single caller's signal may cut it short for the others. */
  readTimeoutMs: number;
  /** Clock, ms since the epoch. */
  now?: () => number;
}

/**
 * A retention period the vendor reports, read at most once per {@link RETENTION_TTL_MS}, one read
 * at a time: concurrent callers wait on the same request. A failed read never throws; callers
 * get the last value read (null before the first success), because a missing retention warning
 * is better than failing a page over an advisory figure.
 */
export class CachedRetention {
  private known: number | null = null;
  /** When the next caller should read the policy again, ms; 0 = never read. */
  private nextReadAtMs = 0;
  private pending: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: CachedRetentionOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Days the vendor keeps events, as last read; waits for a read when the cached answer is stale, unless `signal` aborts first. */
  async current(signal: AbortSignal): Promise<number | null> {
    if (this.pending === null && this.now() >= this.nextReadAtMs) {
      this.pending = this.refresh().finally(() => {
        this.pending = null;
      });
    }
    if (this.pending !== null) await settledOrAborted(this.pending, signal);
    return this.known;
  }

  private async refresh(): Promise<void> {
    try {
      this.known = await this.options.read(AbortSignal.timeout(this.options.readTimeoutMs));
      this.nextReadAtMs = this.now() + RETENTION_TTL_MS;
    } catch (error) {
      this.nextReadAtMs = this.now() + RETENTION_RETRY_MS;
      this.options.onFailure(error);
    }
  }
}

/** Resolves when `promise` settles or `signal` aborts, whichever is first; never rejects. */
function settledOrAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, done);
  });
}
