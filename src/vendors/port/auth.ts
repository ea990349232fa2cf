import { ErrorCode, UpstreamError } from '../../errors';
import type { RequestCounter, UpstreamClient } from '../../http/upstream-client';
import { isJsonObject } from '../../models/json';
import type { RawPortTokenRequest } from './wire-types';

/** Refresh this long before Port's stated expiry, so a token never lapses between check and use. */
const REFRESH_MARGIN_MS = 60_000;

interface CachedToken {
  token: string;
  /** When to stop using it, ms since the epoch. */
  refreshAtMs: number;
}

/**
 * Port's client-credentials exchange (`POST /v1/auth/access_token`). One token is cached until
 * shortly before it expires and shared by every call; concurrent callers wait on one exchange
 * instead of each sending their own. The exchange is counted in the `counter` of the call that
 * started it.
 */
export class PortTokenProvider {
  private cached: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;

  /**
   * @param secrets the client's redaction list: the current token is put into it so that an
   *   upstream echoing it never lands in a log.
   */
  constructor(
    private readonly client: UpstreamClient,
    private readonly credentials: RawPortTokenRequest,
    private readonly secrets: string[],
    private readonly requestMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid access token, exchanging the credentials when none is cached. */
  async token(signal: AbortSignal, counter: RequestCounter | undefined): Promise<string> {
    if (this.cached && this.cached.refreshAtMs > this.now()) return this.cached.token;
    this.pending ??= this.exchange(counter).finally(() => {
      this.pending = null;
    });
    return (await untilAborted(this.pending, signal, this.client.sourceId)).token;
  }

  /** Forgets `token` after the upstream refused it, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = null;
  }

  private async exchange(counter: RequestCounter | undefined): Promise<CachedToken> {
    const response = await this.client.request({
      method: 'POST',
      path: '/v1/auth/access_token',
      json: this.credentials,
      // One caller's short deadline must not fail every caller waiting on the shared exchange;
      // the client's own per-call deadline still bounds it.
      signal: AbortSignal.timeout(this.requestMs + 1_000),
      // Asking again returns the same token, so retrying is safe.
      idempotent: true,
      counter,
    });
    const body = response.body;
    const token = isJsonObject(body) ? body['accessToken'] : undefined;
    const expiresIn = isJsonObject(body) ? body['expiresIn'] : undefined;
    if (typeof token !== 'string' || token === '' || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.client.sourceId, { logDetail: { reason: 'token response without accessToken/expiresIn' } });
    }
    const lifetimeMs = expiresIn * 1000;
    const fresh = { token, refreshAtMs: this.now() + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) };
    const previous = this.cached ? this.secrets.indexOf(this.cached.token) : -1;
    if (previous >= 0) this.secrets.splice(previous, 1);
    if (!this.secrets.includes(token)) this.secrets.push(token);
    this.cached = fresh;
    return fresh;
  }
}

/** `promise`, or an UPSTREAM_TIMEOUT as soon as the caller's own signal aborts. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, sourceId: string): Promise<T> {
  if (signal.aborted) throw new UpstreamError(ErrorCode.UpstreamTimeout, sourceId, { logDetail: { aborted: true } });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new UpstreamError(ErrorCode.UpstreamTimeout, sourceId, { logDetail: { aborted: true } }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
