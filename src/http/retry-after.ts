import { fullJitterGenerator } from 'cockatiel';

/** Header values as undici gives them. */
export type HeaderValue = string | string[] | undefined;
export type ResponseHeaders = Record<string, HeaderValue>;

/** The first value of a header. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long an upstream asks us to wait, in ms, from `Retry-After-Ms`, `Retry-After` (seconds or an
 * HTTP date) or, for a 429 only, `x-ratelimit-reset` (epoch seconds, as Port and ComplianceAgent
 * send). Port sends the reset on every response, so on a 503 it says when the quota renews, not
 * when to retry. Undefined when the response says nothing usable.
 */
export function retryAfterMs(headers: ResponseHeaders, nowMs: number, status: number): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));

  const retryAfter = headerValue(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }

  const reset = status === 429 ? headerValue(headers, 'x-ratelimit-reset')?.trim() : undefined;
  if (reset && /^\d+$/.test(reset)) {
    const resetMs = Number(reset) * 1000;
    // Some vendors send a delta in seconds rather than an epoch; an epoch is always far larger.
    return resetMs > nowMs / 2 ? Math.max(0, resetMs - nowMs) : resetMs;
  }
  return undefined;
}

/**
 * Full-jitter exponential backoff (AWS architecture blog), drawn by cockatiel's generator: retry
 * `retry` (0 for the first retry of a call) waits a uniformly random whole number of ms in
 * [0, min(maxMs, baseMs * 2^retry)). There is no floor: a floor makes every caller that failed
 * together wait at least the same time, which is the lockstep jitter is there to break.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number): number {
  const [delay] = fullJitterGenerator(retry, { generator: fullJitterGenerator, initialDelay: baseMs, maxDelay: maxMs, exponent: 2 });
  return delay;
}
