import type { Context } from '@opentelemetry/api';
import type { Logger } from '../logger';

/**
 * What one client request lends the upstream calls made on its behalf: its logger (which carries
 * the request id), the trace context its calls' spans hang under, and a count of what they sent.
 *
 * It travels on the request's AbortSignal, the one per-request value that already reaches every
 * upstream call through the engine and the vendors untouched. A call whose signal carries no
 * scope (read-ahead that outlives its request, exports) logs on the source's own logger.
 */
export interface RequestScope {
  readonly logger: Logger;
  /** The request's operation span, once it has one. */
  traceContext: Context | undefined;
  /** HTTP requests sent upstream for this request, retries and token exchanges included. */
  upstreamRequests: number;
  /**
   * Told as a call starts to wait for its upstream; the function returned is called once as the
   * wait ends, and the call goes on once the promise it may return has settled. Admission parks
   * a request that only waits and lets it go on when there is room (see `AdaptiveConcurrency`).
   */
  awaitingUpstream?: () => () => Promise<void> | undefined;
}

const SCOPE = Symbol('audit-gateway.requestScope');

type ScopedSignal = AbortSignal & { [SCOPE]?: RequestScope };

/** Makes `scope` travel with `signal`: every upstream call given this signal finds it. */
export function bindRequestScope(signal: AbortSignal, scope: RequestScope): void {
  Object.defineProperty(signal, SCOPE, { value: scope, enumerable: false, configurable: true });
}

/** The scope of the request `signal` belongs to, if any. */
export function requestScopeOf(signal: AbortSignal): RequestScope | undefined {
  return (signal as ScopedSignal)[SCOPE];
}

/** One logical upstream call, as it starts. */
export interface UpstreamCallStart {
  sourceId: string;
  vendor: string | undefined;
  method: string;
  /** Host of the source's base URL. */
  host: string;
  /** Base path plus the call's path, never its query string. */
  path: string;
}

/** How a logical upstream call ended. */
export interface UpstreamCallEnd {
  /** `OK`, or the error code the call failed with. */
  outcome: string;
  /** Status of the last response, null when none came. */
  status: number | null;
  /** HTTP requests sent for the call (0 when the circuit or the rate-limit gate refused it). */
  attempts: number;
}

/** Watches every upstream call of a gateway (its metrics and spans); the client calls it, nothing more. */
export interface UpstreamObserver {
  /** Called as a call starts; the function it returns is called once as the call ends. */
  callStarted(call: UpstreamCallStart, scope: RequestScope | undefined): (end: UpstreamCallEnd) => void;
}
