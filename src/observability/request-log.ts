import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import type { OperationReport } from '../context';
import type { RequestScope } from '../http/observation';
import { sanitizeForLog, type Logger } from '../logger';
import { ANONYMOUS_OPERATION, type GatewayMetrics } from './metrics';
import type { GatewayTracing } from './tracing';

/** Status logged and counted for a request whose client went away before its answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** Routes a probe calls every few seconds: their access lines go at debug, not to drown the rest. */
const PROBE_ROUTES = new Set(['healthz', 'readyz', 'metrics']);

/** The client's `x-request-id` when it is a sane token (1 to 64 of `A-Z a-z 0-9 . _ -`); null otherwise. */
export function requestIdOf(value: string | string[] | undefined): string | null {
  const text = Array.isArray(value) ? value[0] : value;
  return text && /^[A-Za-z0-9._-]{1,64}$/.test(text) ? text : null;
}

/** A path's route, a bounded label for the metrics. */
export function routeOf(pathname: string): string {
  if (pathname === '/graphql') return 'graphql';
  if (pathname === '/healthz' || pathname === '/readyz' || pathname === '/metrics') return pathname.slice(1);
  if (pathname.startsWith('/graphiql/')) return 'graphiql';
  if (pathname.startsWith('/exports/')) return 'exports';
  return 'other';
}

/** What an observed request reports to. */
export interface RequestObservers {
  logger: Logger;
  metrics: GatewayMetrics;
  tracing: GatewayTracing | null;
}

/**
 * One HTTP request as the logs, metrics and traces see it: its id (the client's `x-request-id`
 * when sane, else a new UUID, echoed in the response), its logger (a child carrying `reqId`), the
 * scope its upstream calls find on its signal, and, when its response has ended, one access log
 * line, its metrics and the end of its span.
 */
export class ObservedRequest implements OperationReport {
  readonly id: string;
  readonly logger: Logger;
  readonly scope: RequestScope;
  /** Who called, once authenticated. */
  principalId: string | null = null;
  private readonly startedMs = performance.now();
  private readonly path: string;
  private readonly route: string;
  private operation: { name: string | null; type: string } | null = null;
  private errorCodes: readonly string[] = [];
  private span: Span | null = null;

  constructor(
    private readonly observers: RequestObservers,
    private readonly req: http.IncomingMessage,
    res: http.ServerResponse,
  ) {
    this.id = requestIdOf(req.headers['x-request-id']) ?? randomUUID();
    this.logger = observers.logger.child({ reqId: this.id });
    this.scope = { logger: this.logger, traceContext: undefined, upstreamRequests: 0 };
    this.path = new URL(req.url ?? '/', 'http://gateway').pathname;
    this.route = routeOf(this.path);
    res.setHeader('x-request-id', this.id);
    res.once('close', () => this.finish(res));
  }

  /**
   * Starts the span of a GraphQL request (under the caller's `traceparent`, if any); upstream
   * calls made for it from now on are its children.
   */
  startSpan(): void {
    if (!this.observers.tracing || this.span) return;
    const { span, context } = this.observers.tracing.startOperation(this.req.headers['traceparent'], this.req.headers['tracestate']);
    this.span = span;
    this.scope.traceContext = context;
  }

  resolved(operation: { name: string | null; type: string }): void {
    this.operation = operation;
  }

  answered(errorCodes: readonly string[]): void {
    this.errorCodes = errorCodes;
  }

  private finish(res: http.ServerResponse): void {
    const durationMs = performance.now() - this.startedMs;
    const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_REQUEST;
    const operation = this.route !== 'graphql' || this.operation === null ? null : (this.operation.name ?? ANONYMOUS_OPERATION);
    this.observers.metrics.recordRequest({ route: this.route, operation, status, seconds: durationMs / 1000 });
    if (this.span) {
      this.observers.tracing?.endOperation(this.span, { name: this.operation?.name ?? null, type: this.operation?.type ?? null }, { httpStatus: status, errorCodes: this.errorCodes });
    }
    const line = {
      method: sanitizeForLog(this.req.method ?? 'GET', 16),
      path: sanitizeForLog(this.path, 200),
      operation,
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      upstreamRequests: this.scope.upstreamRequests,
      principal: this.principalId,
      ...(this.errorCodes.length > 0 ? { errorCodes: this.errorCodes } : {}),
    };
    if (PROBE_ROUTES.has(this.route)) this.logger.debug(line, 'request');
    else this.logger.info(line, 'request');
  }
}
