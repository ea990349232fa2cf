import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  TaskCancelledError,
  circuitBreaker,
  handleType,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type IRetryBackoffContext,
  type RetryPolicy as CockatielRetryPolicy,
} from 'cockatiel';
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { ErrorCode, UpstreamError, errorCodeForUpstreamStatus } from '../errors';
import { sanitizeForLog, type Logger } from '../logger';
import { deadlineSignal } from './deadline';
import { requestScopeOf, type RequestScope, type UpstreamObserver } from './observation';
import { GateClosedError, RateLimitGate, type GatePass } from './rate-limit-gate';
import { backoffMs, headerValue, retryAfterMs, type ResponseHeaders } from './retry-after';
import { RetryBudget } from './retry-budget';
import type { SharedCircuitState } from './shared-circuit';
import { guardedLookup } from './ssrf';

/** Timeouts of one source, all in milliseconds. */
export interface UpstreamTimeouts {
  /** TCP + TLS connect; default 2,000. */
  connectMs: number;
  /** From request sent to response headers; default 5,000. */
  headersMs: number;
  /** Longest gap between two body chunks; default 5,000. */
  bodyMs: number;
  /**
   * Overall deadline of one logical call, retries and waits included; default 8,000. undici's
   * bodyTimeout measures gaps between chunks, so a slow drip only stops at this deadline.
   */
  requestMs: number;
}

/** Retry policy for idempotent calls. */
export interface RetryPolicy {
  /** Retries after the first attempt; default 2. */
  maxRetries: number;
  /**
   * Base of the full-jitter backoff, ms; default 250: retry n (0 for the first) waits a random
   * time in [0, min(maxDelayMs, minDelayMs * 2^n)), so there is no floor (see `backoffMs`).
   */
  minDelayMs: number;
  /** Ceiling of any one backoff, ms; default 2,000. */
  maxDelayMs: number;
  /** Retries the source may add per first attempt, counted over the last 10 s (the retry budget); default 0.1. */
  budgetRatio?: number;
  /** Retries allowed per second of that window whatever the traffic (the budget's floor); default 1. */
  minRetriesPerSecond?: number;
}

/** When the circuit breaker of a source opens, and for how long. */
export interface CircuitBreakerSettings {
  /** Consecutive failed calls (each after its retries) that open the circuit; default 5. */
  threshold: number;
  /** How long the circuit stays open before one call may probe the upstream, ms; default 10,000. */
  halfOpenAfterMs: number;
}

/** Options for {@link UpstreamClient}. */
export interface UpstreamClientOptions {
  sourceId: string;
  /** Origin plus an optional base path, e.g. `https://app.asana.com/api/1.0`. */
  baseUrl: string;
  timeouts: UpstreamTimeouts;
  retry: RetryPolicy;
  /** Default {@link DEFAULT_CIRCUIT_BREAKER}. */
  circuitBreaker?: CircuitBreakerSettings;
  /** Sockets in the pool; default 16. */
  maxConnections: number;
  /** Largest body read; default 10 MiB. */
  maxResponseBytes: number;
  /** When false, connect-time DNS answers in private ranges are refused. */
  allowPrivateNetwork: boolean;
  logger: Logger;
  health: CallOutcomeRecorder;
  /** Credentials of this source, scrubbed from anything the client logs (an upstream may echo them). */
  secrets: readonly string[];
  /** The source's vendor, for metrics and spans. */
  vendor?: string;
  /** Told of every logical call (metrics, spans); none by default. */
  observer?: UpstreamObserver;
  /** Open circuits of other replicas (`server.cache.redisUrl`), consulted before each call; none by default. */
  sharedCircuit?: SharedCircuitState;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { connectMs: 2000, headersMs: 5000, bodyMs: 5000, requestMs: 8000 };
export const DEFAULT_RETRY: Required<RetryPolicy> = { maxRetries: 2, minDelayMs: 250, maxDelayMs: 2000, budgetRatio: 0.1, minRetriesPerSecond: 0.4 };
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSettings = { threshold: 5, halfOpenAfterMs: 10_000 };

export type QueryValue = string | number | boolean | readonly string[] | null | undefined;

/** One logical call; the client may send it more than once (retries). */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Appended to the base path; must start with `/`. */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  signal: AbortSignal;
  /** Statuses handed back to the caller instead of thrown, e.g. 404 for a lookup by id. */
  acceptStatuses?: readonly number[];
  /** Whether the call may be retried; default true for GET, false otherwise. */
  idempotent?: boolean;
  /** Incremented once per request actually sent. */
  counter?: RequestCounter;
}

/** The state of a source's circuit breaker, as `SourceHealth` and `SourcePageStatus` show it. */
export type UpstreamCircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** Where the client reports the outcome of each call (a source's health, say). */
export interface CallOutcomeRecorder {
  recordSuccess(): void;
  recordFailure(code: string): void;
  /** Called whenever the source's circuit breaker changes state. */
  recordCircuit(state: UpstreamCircuitState): void;
}

/** Counts what one batch cost: requests sent (request budgets, `upstreamRequests`), and records left out. */
export interface RequestCounter {
  requests: number;
  /** Records of the pages read that could not be placed (see `normalizePage`). */
  unusableRecords?: number;
  /**
   * The logger of the client request the counted calls serve (it carries the request id), set
   * by the first call made with a request's signal: what the datasource logs about the pages
   * it read (records left out) then names the request too.
   */
  requestLogger?: Logger;
}

export interface UpstreamResponse {
  status: number;
  headers: ResponseHeaders;
  /** Parsed JSON, unknown until a normaliser narrows it. */
  body: unknown;
}

const RETRIABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Transport failures worth one more try: the request may never have reached the upstream. */
const RETRIABLE_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** How an attempt that gave no response went wrong, and what may follow it. */
interface AttemptFailure {
  error: UpstreamError;
  /** The same request may be sent again: a retriable status, or a transport failure before the upstream could act. */
  retriable: boolean;
  /** How long the upstream asked to wait (Retry-After on a 429 or 503), ms. */
  retryAfterMs: number | undefined;
  /** The upstream looks down (5xx, 408, transport failure, timeout): what the circuit breaker counts. */
  outage: boolean;
}

type AttemptOutcome = { kind: 'response'; response: UpstreamResponse } | { kind: 'error'; failure: AttemptFailure };

/**
 * How a call ended without a response, for the breaker and the health record:
 * - `outage`: the upstream looked down; the breaker counts it;
 * - `answered`: the upstream answered, with an error (4xx, a rate limit, a body it cannot read):
 *   it is up, so the breaker counts a success;
 * - `unsent`: nothing was sent (the circuit or the rate-limit gate was closed);
 * - `cancelled`: the caller went away; not the upstream's fault.
 */
class CallFailure extends Error {
  constructor(
    readonly error: UpstreamError,
    readonly kind: 'outage' | 'answered' | 'unsent' | 'cancelled',
  ) {
    super(error.message);
    this.name = 'CallFailure';
  }
}

/** Thrown by an attempt that is to be retried after `delayMs`; cockatiel's retry policy handles only this. */
/**
 * One logical call on its way: what its attempts saw, and where its log lines go (the request's
 * logger when its signal carries a request scope, so that they carry the request id).
 */
interface CallRecord {
  attempts: number;
  status: number | null;
  readonly log: Logger;
  readonly scope: RequestScope | undefined;
}

type SentRequest = UpstreamRequest & { readonly call: CallRecord };

class RetryLater extends Error {
  constructor(
    readonly failure: CallFailure,
    readonly delayMs: number,
  ) {
    super(failure.message);
    this.name = 'RetryLater';
  }
}

/**
 * HTTP for one source: a pooled undici connection set, an overall deadline per call, and around
 * each call, from the outside in:
 * - a circuit breaker (cockatiel): after `threshold` consecutive calls failed for an outage, calls
 *   fail at once with UPSTREAM_UNAVAILABLE and send nothing, until one probe after
 *   `halfOpenAfterMs` succeeds;
 * - retries of idempotent calls (cockatiel), with full-jitter exponential backoff, as long as the
 *   source's retry budget allows (a share of its recent first attempts) and the deadline leaves
 *   time for the wait;
 * - a rate-limit gate shared by every call of the source, which a Retry-After closes for all of
 *   them until the same instant, then lets one probe through before the rest (see
 *   {@link RateLimitGate});
 * and a response size cap. Cockatiel's retry policy draws a delay only once it has decided to
 * retry, and waits on a timer the caller's signal does not stop; so each attempt decides on its own
 * retry, with the deadline and the budget in view, and hands the policy a delay that ends before
 * the deadline.
 *
 * A half-open probe that ends without an upstream answer (its caller went away, or the gate
 * refused it) closes the circuit: cockatiel has no neutral outcome, and counting it as a failure
 * would let a client's cancellation hold the circuit open. The next outages open it again.
 */
export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly gate = new RateLimitGate();
  private readonly budget: RetryBudget;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly retrier: CockatielRetryPolicy;
  /** Until when another replica's circuit of this source is open, as last read; and the read in flight, which concurrent calls share. */
  private sharedOpenUntilMs = 0;
  private sharedLookup: Promise<number | null> | null = null;
  /** The source's logger, bound to its id once: call lines never repeat `source`. */
  private readonly logger: Logger;
  private readonly host: string;

  constructor(private readonly options: UpstreamClientOptions) {
    this.logger = options.logger.bindings()['source'] === options.sourceId ? options.logger : options.logger.child({ source: options.sourceId });
    const url = new URL(options.baseUrl);
    this.host = url.host;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.maxConnections,
      headersTimeout: options.timeouts.headersMs,
      bodyTimeout: options.timeouts.bodyMs,
      connect: {
        timeout: options.timeouts.connectMs,
        ...(options.allowPrivateNetwork ? {} : { lookup: guardedLookup }),
      },
    });
    this.budget = new RetryBudget({
      ratio: options.retry.budgetRatio ?? DEFAULT_RETRY.budgetRatio,
      minPerSecond: options.retry.minRetriesPerSecond ?? DEFAULT_RETRY.minRetriesPerSecond,
    });
    const { threshold, halfOpenAfterMs } = options.circuitBreaker ?? DEFAULT_CIRCUIT_BREAKER;
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof CallFailure && error.kind === 'outage'),
      { halfOpenAfter: halfOpenAfterMs, breaker: new ConsecutiveBreaker(threshold) },
    );
    this.breaker.onStateChange((state) => {
      const circuit = circuitStateName(state);
      options.health.recordCircuit(circuit);
      // Tell the other replicas: they fail fast until the same instant; a successful probe lets them go again.
      if (circuit === 'OPEN') void options.sharedCircuit?.opened(options.sourceId, Date.now() + halfOpenAfterMs);
      else if (circuit === 'CLOSED') void options.sharedCircuit?.closed(options.sourceId);
      if (circuit === 'OPEN') this.logger.warn({ circuit, halfOpenAfterMs }, 'circuit opened: calls fail at once until a probe succeeds');
      else this.logger.info({ circuit }, 'circuit state changed');
    });
    // The attempt decides whether to retry (it alone knows the deadline and the budget) and puts
    // the delay on the error; the policy only waits it out and calls again.
    this.retrier = retry(handleType(RetryLater), {
      maxAttempts: options.retry.maxRetries,
      backoff: new DelegateBackoff<IRetryBackoffContext<unknown>>((context) =>
        'error' in context.result && context.result.error instanceof RetryLater ? context.result.error.delayMs : 0,
      ),
    }).dangerouslyUnref();
  }

  get sourceId(): string {
    return this.options.sourceId;
  }

  /** The state of this source's circuit breaker. */
  get circuit(): UpstreamCircuitState {
    const own = circuitStateName(this.breaker.state);
    return own === 'CLOSED' && this.sharedOpenUntilMs > Date.now() ? 'OPEN' : own;
  }

  /** The absolute URL of a path, for links an upstream hands back (e.g. Asana `next_page.uri`). */
  resolve(path: string): URL {
    return new URL(this.basePath + path, this.options.baseUrl);
  }

  /** True when `url` is on this source's configured origin and under its base path. */
  isOwnUrl(url: URL): boolean {
    const base = new URL(this.options.baseUrl);
    return url.origin === base.origin && url.pathname.startsWith(this.basePath);
  }

  /** Sends `request`, retrying where safe; resolves with a 2xx (or accepted) response or throws UpstreamError. */
  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    const scope = requestScopeOf(request.signal);
    const call: CallRecord = { attempts: 0, status: null, scope, log: scope ? scope.logger.child({ source: this.options.sourceId }) : this.logger };
    const ended = this.options.observer?.callStarted(
      {
        sourceId: this.options.sourceId,
        vendor: this.options.vendor,
        method: request.method,
        host: this.host,
        // A link an upstream hands back may carry its query in the path: never a span's business.
        path: (this.basePath + request.path).split('?')[0]!,
      },
      scope,
    );
    const answered = scope?.awaitingUpstream?.();
    try {
      const response = await this.send({ ...request, call });
      ended?.({ outcome: 'OK', status: call.status, attempts: call.attempts });
      return response;
    } catch (error) {
      ended?.({ outcome: error instanceof UpstreamError ? error.code : 'UNKNOWN', status: call.status, attempts: call.attempts });
      throw error;
    } finally {
      // A request parked while it waited goes on when admission has room for it again.
      await answered?.();
    }
  }

  private async send(request: SentRequest): Promise<UpstreamResponse> {
    if (await this.openElsewhere()) {
      request.call.log.debug('circuit open on another replica: call failed without an upstream request');
      throw new UpstreamError(ErrorCode.UpstreamUnavailable, this.options.sourceId, { logDetail: { reason: 'circuit open on another replica' } });
    }
    const deadlineMs = Date.now() + this.options.timeouts.requestMs;
    let outcome: { response: UpstreamResponse } | { failure: CallFailure };
    try {
      outcome = await this.breaker.execute(
        () =>
          this.callWithRetries(request, deadlineMs).then(
            (response) => ({ response }),
            (cause: unknown) => {
              // An upstream that answers, even with an error, is up: the breaker counts a success.
              if (cause instanceof CallFailure && cause.kind === 'answered') return { failure: cause };
              throw cause;
            },
          ),
        request.signal,
      );
    } catch (cause) {
      throw this.settle(cause, request);
    }
    if ('failure' in outcome) throw this.settle(outcome.failure, request);
    this.options.health.recordSuccess();
    return outcome.response;
  }

  /**
   * True when this replica's breaker is closed but another replica's is open. Only a closed
   * breaker asks: an open one fails fast anyway, and a half-open one is this replica's probe.
   */
  private async openElsewhere(): Promise<boolean> {
    const shared = this.options.sharedCircuit;
    if (!shared || this.breaker.state !== CircuitState.Closed) return false;
    if (!this.sharedLookup) {
      this.sharedLookup = shared.openUntil(this.options.sourceId).finally(() => (this.sharedLookup = null));
    }
    const untilMs = await this.sharedLookup;
    this.sharedOpenUntilMs = untilMs ?? 0;
    return untilMs !== null && untilMs > Date.now();
  }

  /** Closes the pool; in-flight requests finish first. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** The error a failed call throws, recorded in the source's health when the upstream was asked. */
  private settle(cause: unknown, request: SentRequest): unknown {
    if (cause instanceof CallFailure) {
      if (cause.kind === 'outage' || cause.kind === 'answered') this.options.health.recordFailure(cause.error.code);
      return cause.error;
    }
    if (cause instanceof BrokenCircuitError) {
      // At debug: while the circuit is open every call ends here, and opening it was logged once.
      request.call.log.debug('circuit open: call failed without an upstream request');
      return new UpstreamError(ErrorCode.UpstreamUnavailable, this.options.sourceId, { logDetail: { reason: 'circuit open' } });
    }
    // Cockatiel's half-open state: the caller went away while another call probed the upstream.
    if (cause instanceof TaskCancelledError) return this.cancelled(request);
    return cause;
  }

  /** One call: attempts and retries under cockatiel's retry policy; throws CallFailure. */
  private async callWithRetries(request: SentRequest, deadlineMs: number): Promise<UpstreamResponse> {
    try {
      return await this.retrier.execute(({ attempt }) => this.attemptOnce(request, deadlineMs, attempt), request.signal);
    } catch (cause) {
      // The policy gives up on a pending retry when the caller's signal aborted.
      if (cause instanceof RetryLater) throw cause.failure;
      throw cause;
    }
  }

  /** Attempt `attempt` (0 for the first) of a call: through the gate, one request, then the verdict on a failure. */
  private async attemptOnce(request: SentRequest, deadlineMs: number, attempt: number): Promise<UpstreamResponse> {
    if (request.signal.aborted) throw new CallFailure(this.cancelled(request), 'cancelled');
    let pass: GatePass;
    try {
      pass = await this.gate.enter(request.signal, deadlineMs);
    } catch (cause) {
      if (!(cause instanceof GateClosedError)) throw new CallFailure(this.cancelled(request), 'cancelled');
      const retryAfterSeconds = cause.waitMs === undefined ? undefined : Math.ceil(cause.waitMs / 1000);
      const error = this.fail(ErrorCode.UpstreamRateLimited, { ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }), logDetail: { gate: 'closed' } }, request.call.log);
      throw new CallFailure(error, 'unsent');
    }
    if (pass.probe) request.call.log.debug('rate limit over: one request probes before the others');
    let limitedAgain = true;
    try {
      const remaining = deadlineMs - Date.now();
      if (remaining <= 0) throw new CallFailure(this.fail(ErrorCode.UpstreamTimeout, { logDetail: { attempt, gate: 'waited' } }, request.call.log), 'unsent');
      if (attempt === 0) this.budget.recordFirstAttempt();
      const outcome = await this.attempt(request, remaining);
      if (outcome.kind === 'response') {
        limitedAgain = false;
        return outcome.response;
      }
      const { failure } = outcome;
      if (failure.retryAfterMs !== undefined) this.gate.closeUntil(Date.now() + failure.retryAfterMs);
      limitedAgain = failure.error.code === ErrorCode.UpstreamRateLimited || failure.retryAfterMs !== undefined || cancelledByCaller(request.signal);
      throw this.verdict(failure, request, attempt, deadlineMs);
    } finally {
      pass.done(limitedAgain);
    }
  }

  /** Whether a failed attempt is retried: a RetryLater with its delay, or the CallFailure that ends the call. */
  private verdict(failure: AttemptFailure, request: SentRequest, attempt: number, deadlineMs: number): RetryLater | CallFailure {
    if (cancelledByCaller(request.signal)) return new CallFailure(failure.error, 'cancelled');
    const final = new CallFailure(failure.error, failure.outage ? 'outage' : 'answered');
    const idempotent = request.idempotent ?? request.method === 'GET';
    if (!idempotent || !failure.retriable || attempt >= this.options.retry.maxRetries) return final;
    // Another call opened the circuit, or this call is the half-open probe: one request, no more.
    if (this.breaker.state !== CircuitState.Closed) return final;
    const { minDelayMs, maxDelayMs } = this.options.retry;
    // After a Retry-After the gate does the waiting, the same instant for every caller.
    const delayMs = failure.retryAfterMs === undefined ? backoffMs(attempt, minDelayMs, maxDelayMs) : 0;
    if (Date.now() + (failure.retryAfterMs ?? delayMs) >= deadlineMs) return final;
    if (!this.budget.tryRetry()) {
      request.call.log.debug({ attempt: attempt + 1, code: failure.error.code }, 'retry budget spent: not retrying');
      return final;
    }
    // Logged here, not in the policy's onRetry: only the call knows whose request it serves.
    request.call.log.debug({ attempt: attempt + 1, delayMs, code: failure.error.code }, 'retrying upstream call');
    return new RetryLater(final, delayMs);
  }

  /** The error of a call its caller gave up on. */
  private cancelled(request: SentRequest): UpstreamError {
    return this.fail(ErrorCode.UpstreamTimeout, { logDetail: { aborted: true } }, request.call.log, request.signal);
  }

  private async attempt(request: SentRequest, remainingMs: number): Promise<AttemptOutcome> {
    const deadline = deadlineSignal(request.signal, remainingMs);
    try {
      return await this.attemptUntil(request, deadline.signal);
    } finally {
      deadline.release();
    }
  }

  private async attemptUntil(request: SentRequest, signal: AbortSignal): Promise<AttemptOutcome> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    }
    if (request.counter) {
      request.counter.requests += 1;
      request.counter.requestLogger ??= requestScopeOf(request.signal)?.logger;
    }
    request.call.attempts += 1;
    if (request.call.scope) request.call.scope.upstreamRequests += 1;

    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: request.method,
        path: this.basePath + request.path + encodeQuery(request.query),
        headers,
        body,
        signal,
      });
    } catch (cause) {
      return this.networkFailure(cause, request);
    }

    const responseHeaders = response.headers as ResponseHeaders;
    const { statusCode } = response;
    request.call.status = statusCode;
    const accepted = request.acceptStatuses?.includes(statusCode) ?? false;
    if ((statusCode >= 200 && statusCode < 300) || accepted) {
      try {
        const parsed = await this.readJson(response, signal, request.call.log);
        return { kind: 'response', response: { status: statusCode, headers: responseHeaders, body: parsed } };
      } catch (cause) {
        if (cause instanceof UpstreamError) return { kind: 'error', failure: { error: cause, retriable: false, retryAfterMs: undefined, outage: false } };
        return this.networkFailure(cause, request);
      }
    }

    const upstreamMessage = this.scrub(await readErrorText(response.body));
    const code = errorCodeForUpstreamStatus(statusCode);
    const retriable = RETRIABLE_STATUSES.has(statusCode);
    // Only a status worth retrying says when to retry: a Retry-After on a 404 closes nothing.
    const waitMs = retriable ? retryAfterMs(responseHeaders, Date.now(), statusCode) : undefined;
    const error = this.fail(code, {
      httpStatus: statusCode,
      ...(code === ErrorCode.UpstreamRateLimited && waitMs !== undefined
        ? { retryAfterSeconds: Math.ceil(waitMs / 1000) }
        : {}),
      logDetail: { status: statusCode, upstreamMessage },
    }, request.call.log);
    return {
      kind: 'error',
      failure: {
        error,
        retriable,
        retryAfterMs: waitMs,
        // An upstream that says when to come back is governed by the gate, at its own instant,
        // not by the breaker's fixed pause.
        outage: (statusCode >= 500 || statusCode === 408) && waitMs === undefined,
      },
    };
  }

  private async readJson(response: Dispatcher.ResponseData, signal: AbortSignal, log: Logger): Promise<unknown> {
    const contentType = headerValue(response.headers as ResponseHeaders, 'content-type') ?? '';
    if (!/\bjson\b/i.test(contentType)) {
      // A login page or proxy error: never parse it, never pass it on.
      discard(response.body);
      throw this.fail(ErrorCode.UpstreamMalformedResponse, { logDetail: { contentType: sanitizeForLog(contentType, 80) } }, log);
    }
    const declared = Number(headerValue(response.headers as ResponseHeaders, 'content-length') ?? NaN);
    const max = this.options.maxResponseBytes;
    if (declared > max) {
      discard(response.body);
      throw this.fail(ErrorCode.UpstreamResponseTooLarge, { logDetail: { declared } }, log);
    }
    let text: string;
    if (declared >= 0) {
      // A declared length bounds the body (undici reads exactly that much): read it whole.
      text = await response.body.text();
    } else {
      text = await this.readCapped(response, signal, max, log);
    }
    if (text.length === 0) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.fail(ErrorCode.UpstreamMalformedResponse, { logDetail: { reason: 'invalid JSON', bytes: Buffer.byteLength(text) } }, log);
    }
  }

  /** A body of unknown length, read chunk by chunk up to `max` bytes. */
  private async readCapped(response: Dispatcher.ResponseData, signal: AbortSignal, max: number, log: Logger): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      if (signal.aborted) break;
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > max) {
        discard(response.body);
        throw this.fail(ErrorCode.UpstreamResponseTooLarge, { logDetail: { readBytes: size } }, log);
      }
      chunks.push(buffer);
    }
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private networkFailure(cause: unknown, request: SentRequest): AttemptOutcome {
    const code = networkErrorCode(cause, request.signal);
    const errno = (cause as { code?: unknown } | null)?.code;
    const error = this.fail(code, { logDetail: { errno: typeof errno === 'string' ? errno : undefined, name: (cause as Error)?.name } }, request.call.log, request.signal);
    const retriable = typeof errno === 'string' && RETRIABLE_NETWORK_CODES.has(errno);
    return { kind: 'error', failure: { error, retriable, retryAfterMs: undefined, outage: true } };
  }

  private scrub(text: string): string {
    let clean = text;
    for (const secret of this.options.secrets) if (secret) clean = clean.split(secret).join('[redacted]');
    return clean;
  }

  private fail(
    code: ErrorCode,
    options: { httpStatus?: number; retryAfterSeconds?: number; logDetail?: Record<string, unknown> },
    log: Logger,
    callerSignal?: AbortSignal,
  ): UpstreamError {
    const error = new UpstreamError(code, this.options.sourceId, options);
    // `log` is bound to the source: the line's own object never names it again.
    if (callerSignal && cancelledByCaller(callerSignal)) {
      log.debug('upstream call cancelled by the client');
    } else {
      log.warn({ code, ...options.logDetail }, 'upstream call failed');
    }
    return error;
  }
}

/** True when the caller's signal fired for another reason than a deadline (the client went away). */
function cancelledByCaller(signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  const reason: unknown = signal.reason;
  return !(reason instanceof Error && reason.name === 'TimeoutError');
}

function circuitStateName(state: CircuitState): UpstreamCircuitState {
  switch (state) {
    case CircuitState.Closed:
      return 'CLOSED';
    case CircuitState.HalfOpen:
      return 'HALF_OPEN';
    default:
      // Isolated (held open by hand) is never used here; it refuses calls as Open does.
      return 'OPEN';
  }
}

function networkErrorCode(cause: unknown, callerSignal: AbortSignal): ErrorCode {
  if (cause instanceof undiciErrors.ConnectTimeoutError) return ErrorCode.UpstreamTimeout;
  if (cause instanceof undiciErrors.HeadersTimeoutError || cause instanceof undiciErrors.BodyTimeoutError) {
    return ErrorCode.UpstreamTimeout;
  }
  const name = (cause as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError' || cause instanceof undiciErrors.RequestAbortedError) {
    return ErrorCode.UpstreamTimeout;
  }
  if (callerSignal.aborted) return ErrorCode.UpstreamTimeout;
  const errno = (cause as { code?: unknown } | null)?.code;
  if (errno === 'ECONNREFUSED' || errno === 'ENOTFOUND' || errno === 'EHOSTUNREACH' || errno === 'EAI_AGAIN' || errno === 'EADDRREFUSED_SSRF') {
    return ErrorCode.UpstreamUnreachable;
  }
  return ErrorCode.UpstreamUnavailable;
}

/**
 * Drops a body we will not read. undici's BodyReadable emits 'error' when destroyed, and an
 * 'error' event without a listener would take the whole process down.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Reads at most 4 KiB of an error body, for the log only. */
async function readErrorText(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > 4096) {
        discard(body);
        break;
      }
    }
  } catch {
    // The status is what matters; an unreadable error body changes nothing.
  }
  return sanitizeForLog(text, 300);
}

function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The parts of a source's config the client is built from (see `BaseSourceConfig`). */
export type UpstreamClientConfig = Pick<
  UpstreamClientOptions,
  'baseUrl' | 'timeouts' | 'retry' | 'circuitBreaker' | 'maxConnections' | 'maxResponseBytes' | 'allowPrivateNetwork'
> & { id: string; vendor?: string };

/** The HTTP client of one configured source; `secrets` are its credentials, scrubbed from logs. */
export function createUpstreamClient(
  config: UpstreamClientConfig,
  deps: { logger: Logger; health: CallOutcomeRecorder; observer?: UpstreamObserver; sharedCircuit?: SharedCircuitState },
  secrets: readonly string[],
): UpstreamClient {
  return new UpstreamClient({
    sourceId: config.id,
    baseUrl: config.baseUrl,
    timeouts: config.timeouts,
    retry: config.retry,
    ...(config.circuitBreaker ? { circuitBreaker: config.circuitBreaker } : {}),
    maxConnections: config.maxConnections,
    maxResponseBytes: config.maxResponseBytes,
    allowPrivateNetwork: config.allowPrivateNetwork,
    logger: deps.logger,
    health: deps.health,
    secrets,
    ...(config.vendor === undefined ? {} : { vendor: config.vendor }),
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.sharedCircuit ? { sharedCircuit: deps.sharedCircuit } : {}),
  });
}
