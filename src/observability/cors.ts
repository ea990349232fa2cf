import type http from 'node:http';

/** `server.cors`: which browser origins may call the gateway. */
export interface CorsSettings {
  /** Exact origins (`https://app.example.com`), or `*` for any (never with credentials). */
  origins: string[];
  /** Lets browsers send cookies or HTTP auth with their requests; default false. */
  allowCredentials: boolean;
  /** Seconds a browser may reuse a preflight answer; default 600. */
  maxAge: number;
}

/** Headers a browser page may send: the API's credential and body, the request id, and Apollo's CSRF opt-in. */
const ALLOWED_HEADERS = 'authorization, content-type, x-request-id, apollo-require-preflight';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Response headers a page may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'x-request-id, retry-after, www-authenticate';

/**
 * CORS for the gateway's routes. A preflight from an allowed origin is answered here, before
 * authentication (browsers never send credentials on a preflight) and before Apollo Server's CSRF
 * check, which would refuse it; the request that follows meets that check unchanged. A disallowed
 * origin gets no CORS header at all, so its browser keeps the response from the page.
 */
export class Cors {
  private readonly origins: ReadonlySet<string>;
  private readonly anyOrigin: boolean;

  constructor(private readonly settings: CorsSettings) {
    this.origins = new Set(settings.origins.filter((origin) => origin !== '*'));
    this.anyOrigin = settings.origins.includes('*');
  }

  /**
   * Sets the CORS headers of a response to `req`; answers the request itself when it is a
   * preflight (true: nothing more to do).
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const origin = req.headers.origin;
    // Every answer depends on the Origin once CORS is on: caches must keep them apart.
    res.setHeader('vary', 'Origin');
    const allowed = origin !== undefined && this.allows(origin);
    const preflight = req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    if (allowed) {
      res.setHeader('access-control-allow-origin', this.anyOrigin && !this.settings.allowCredentials ? '*' : origin);
      if (this.settings.allowCredentials) res.setHeader('access-control-allow-credentials', 'true');
    }
    if (!preflight) {
      if (allowed) res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      return false;
    }
    req.resume();
    if (!allowed) {
      const body = JSON.stringify({ error: 'origin not allowed' });
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': String(this.settings.maxAge),
    });
    res.end();
    return true;
  }

  private allows(origin: string): boolean {
    if (this.anyOrigin) return true;
    return this.origins.has(origin.toLowerCase());
  }
}
