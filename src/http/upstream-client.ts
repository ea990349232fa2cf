import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, UpstreamError, errorCodeForUpstreamStatus } from '../errors';
import { sanitizeForLog, type Logger } from '../logger';
import { deadlineSignal } from './deadline';
import { backoffMs, headerValue, retryAfterMs, type ResponseHeaders } from './retry-after';
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
  /** Backoff floor and ceiling, ms; default 250 and 2,000. */
  minDelayMs: number;
  maxDelayMs: number;
}

/** Options for {@link UpstreamClient}. */
export interface UpstreamClientOptions {
  sourceId: string;
  /** Origin plus an optional base path, e.g. `https://app.asana.com/api/1.0`. */
  baseUrl: string;
  timeouts: UpstreamTimeouts;
  retry: RetryPolicy;
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
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { connectMs: 2000, headersMs: 5000, bodyMs: 5000, requestMs: 8000 };
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, minDelayMs: 250, maxDelayMs: 2000 };

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

/** Where the client reports the outcome of each call (a source's health, say). */
export interface CallOutcomeRecorder {
  recordSuccess(): void;
  recordFailure(code: string): void;
}

/** Counts what one batch cost: requests sent (request budgets, `upstreamRequests`), and records left out. */
export interface RequestCounter {
  requests: number;
  /** Records of the pages read that could not be placed (see `normalizePage`). */
  unusableRecords?: number;
}

export interface UpstreamResponse {
  status: number;
  headers: ResponseHeaders;
  /** Parsed JSON, unknown until a normaliser narrows it. */
  body: unknown;
}

const RETRIABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Transport failures worth one more try: the request may never have reached the upstream. */
const RETRIABLE_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * HTTP for one source: a pooled undici connection set, an overall deadline per call, retries with
 * full-jitter backoff that honour Retry-After, a response size cap, and a rate-limit gate shared
 * by every request of the source, so that a 429 with a long Retry-After stops all calls to that
 * source (instead of each request probing it) until the time has passed.
 */
export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private rateLimitedUntilMs = 0;

  constructor(private readonly options: UpstreamClientOptions) {
    const url = new URL(options.baseUrl);
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
  }

  get sourceId(): string {
    return this.options.sourceId;
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
    const now = Date.now();
    if (this.rateLimitedUntilMs > now) {
      throw this.fail(ErrorCode.UpstreamRateLimited, {
        retryAfterSeconds: Math.ceil((this.rateLimitedUntilMs - now) / 1000),
        logDetail: { gate: 'closed' },
      });
    }
    const deadline = now + this.options.timeouts.requestMs;
    const idempotent = request.idempotent ?? request.method === 'GET';
    const maxRetries = idempotent ? this.options.retry.maxRetries : 0;

    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.fail(ErrorCode.UpstreamTimeout, { logDetail: { attempt } });
      const outcome = await this.attempt(request, remaining);
      if (outcome.kind === 'response') {
        this.options.health.recordSuccess();
        return outcome.response;
      }
      const { error, retryDelayMs } = outcome;
      if (cancelledByCaller(request.signal)) {
        // The client went away: not the upstream's fault, so neither a health mark nor a retry.
        throw error;
      }
      const canRetry = attempt < maxRetries && retryDelayMs !== undefined;
      if (!canRetry || Date.now() + retryDelayMs >= deadline) {
        if (error.code === ErrorCode.UpstreamRateLimited && retryDelayMs !== undefined) {
          // Close the gate for everyone: further calls would only spend the upstream's quota.
          this.rateLimitedUntilMs = Math.max(this.rateLimitedUntilMs, Date.now() + retryDelayMs);
        }
        this.options.health.recordFailure(error.code);
        throw error;
      }
      this.options.logger.debug(
        { source: this.options.sourceId, attempt: attempt + 1, delayMs: retryDelayMs, code: error.code },
        'retrying upstream call',
      );
      await sleep(retryDelayMs, undefined, { signal: request.signal }).catch(() => undefined);
      if (request.signal.aborted) throw this.fail(ErrorCode.UpstreamTimeout, { logDetail: { aborted: true } });
    }
  }

  /** Closes the pool; in-flight requests finish first. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  private async attempt(
    request: UpstreamRequest,
    remainingMs: number,
  ): Promise<{ kind: 'response'; response: UpstreamResponse } | { kind: 'error'; error: UpstreamError; retryDelayMs: number | undefined }> {
    const deadline = deadlineSignal(request.signal, remainingMs);
    try {
      return await this.attemptUntil(request, deadline.signal);
    } finally {
      deadline.release();
    }
  }

  private async attemptUntil(
    request: UpstreamRequest,
    signal: AbortSignal,
  ): Promise<{ kind: 'response'; response: UpstreamResponse } | { kind: 'error'; error: UpstreamError; retryDelayMs: number | undefined }> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    }
    if (request.counter) request.counter.requests += 1;

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
      return this.networkFailure(cause, request.signal);
    }

    const responseHeaders = response.headers as ResponseHeaders;
    const { statusCode } = response;
    const accepted = request.acceptStatuses?.includes(statusCode) ?? false;
    if ((statusCode >= 200 && statusCode < 300) || accepted) {
      try {
        const parsed = await this.readJson(response, signal);
        return { kind: 'response', response: { status: statusCode, headers: responseHeaders, body: parsed } };
      } catch (cause) {
        if (cause instanceof UpstreamError) return { kind: 'error', error: cause, retryDelayMs: undefined };
        return this.networkFailure(cause, request.signal);
      }
    }

    const upstreamMessage = this.scrub(await readErrorText(response.body));
    const code = errorCodeForUpstreamStatus(statusCode);
    const waitMs = retryAfterMs(responseHeaders, Date.now(), statusCode);
    const error = this.fail(code, {
      httpStatus: statusCode,
      ...(code === ErrorCode.UpstreamRateLimited && waitMs !== undefined
        ? { retryAfterSeconds: Math.ceil(waitMs / 1000) }
        : {}),
      logDetail: { status: statusCode, upstreamMessage },
    });
    if (!RETRIABLE_STATUSES.has(statusCode)) return { kind: 'error', error, retryDelayMs: undefined };
    const { minDelayMs, maxDelayMs } = this.options.retry;
    return { kind: 'error', error, retryDelayMs: waitMs ?? backoffMs(0, minDelayMs, maxDelayMs) };
  }

  private async readJson(response: Dispatcher.ResponseData, signal: AbortSignal): Promise<unknown> {
    const contentType = headerValue(response.headers as ResponseHeaders, 'content-type') ?? '';
    if (!/\bjson\b/i.test(contentType)) {
      // A login page or proxy error: never parse it, never pass it on.
      discard(response.body);
      throw this.fail(ErrorCode.UpstreamMalformedResponse, { logDetail: { contentType: sanitizeForLog(contentType, 80) } });
    }
    const declared = Number(headerValue(response.headers as ResponseHeaders, 'content-length') ?? NaN);
    const max = this.options.maxResponseBytes;
    if (declared > max) {
      discard(response.body);
      throw this.fail(ErrorCode.UpstreamResponseTooLarge, { logDetail: { declared } });
    }
    let text: string;
    if (declared >= 0) {
      // A declared length bounds the body (undici reads exactly that much): read it whole.
      text = await response.body.text();
    } else {
      text = await this.readCapped(response, signal, max);
    }
    if (text.length === 0) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.fail(ErrorCode.UpstreamMalformedResponse, { logDetail: { reason: 'invalid JSON', bytes: Buffer.byteLength(text) } });
    }
  }

  /** A body of unknown length, read chunk by chunk up to `max` bytes. */
  private async readCapped(response: Dispatcher.ResponseData, signal: AbortSignal, max: number): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      if (signal.aborted) break;
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > max) {
        discard(response.body);
        throw this.fail(ErrorCode.UpstreamResponseTooLarge, { logDetail: { readBytes: size } });
      }
      chunks.push(buffer);
    }
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private networkFailure(cause: unknown, callerSignal: AbortSignal): { kind: 'error'; error: UpstreamError; retryDelayMs: number | undefined } {
    const code = networkErrorCode(cause, callerSignal);
    const errno = (cause as { code?: unknown } | null)?.code;
    const error = this.fail(code, { logDetail: { errno: typeof errno === 'string' ? errno : undefined, name: (cause as Error)?.name } }, callerSignal);
    const retriable = typeof errno === 'string' && RETRIABLE_NETWORK_CODES.has(errno);
    const { minDelayMs, maxDelayMs } = this.options.retry;
    return { kind: 'error', error, retryDelayMs: retriable ? backoffMs(0, minDelayMs, maxDelayMs) : undefined };
  }

  private scrub(text: string): string {
    let clean = text;
    for (const secret of this.options.secrets) if (secret) clean = clean.split(secret).join('[redacted]');
    return clean;
  }

  private fail(
    code: ErrorCode,
    options: { httpStatus?: number; retryAfterSeconds?: number; logDetail?: Record<string, unknown> },
    callerSignal?: AbortSignal,
  ): UpstreamError {
    const error = new UpstreamError(code, this.options.sourceId, options);
    if (callerSignal && cancelledByCaller(callerSignal)) {
      this.options.logger.debug({ source: this.options.sourceId }, 'upstream call cancelled by the client');
    } else {
      this.options.logger.warn({ source: this.options.sourceId, code, ...options.logDetail }, 'upstream call failed');
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
  'baseUrl' | 'timeouts' | 'retry' | 'maxConnections' | 'maxResponseBytes' | 'allowPrivateNetwork'
> & { id: string };

/** The HTTP client of one configured source; `secrets` are its credentials, scrubbed from logs. */
export function createUpstreamClient(
  config: UpstreamClientConfig,
  deps: { logger: Logger; health: CallOutcomeRecorder },
  secrets: readonly string[],
): UpstreamClient {
  return new UpstreamClient({
    sourceId: config.id,
    baseUrl: config.baseUrl,
    timeouts: config.timeouts,
    retry: config.retry,
    maxConnections: config.maxConnections,
    maxResponseBytes: config.maxResponseBytes,
    allowPrivateNetwork: config.allowPrivateNetwork,
    logger: deps.logger,
    health: deps.health,
    secrets,
  });
}
