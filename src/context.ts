import DataLoader from 'dataloader';
import { ANONYMOUS, type Principal } from './auth';
import type { GatewayCaches } from './connection/caches';
import type { ServerConfig } from './config';
import type { GatewayError } from './errors';
import type { CursorCodec } from './connection/cursor';
import { createEventLoader } from './connection/event-loader';
import type { ConnectionWarning, EventConnectionDeps, EventConnectionModel } from './connection/events-connection';
import { createNestedConnectionLoader, type NestedConnectionRequest } from './connection/nested-connections';
import type { ExportService } from './export/service';
import type { CostBudget } from './graphql/cost';
import type { Logger } from './logger';
import type { AuditEventModel } from './models/audit-event';
import type { SourceRegistry } from './sources/registry';

/** An error of one source that failed while the rest of the answer stands. */
export interface PartialError {
  error: GatewayError;
  path: readonly (string | number)[];
}

/** A warning about the field at `path`, sent in the response's `extensions.warnings`. */
export type PathWarning = ConnectionWarning & {
  path: readonly (string | number)[];
};

/** Where a request tells what it ran and how it ended: its access log line, its span, its metrics. */
export interface OperationReport {
  /** The operation Apollo Server resolved to run. */
  resolved(operation: { name: string | null; type: string }): void;
  /** The error codes of the final response. */
  answered(errorCodes: readonly string[]): void;
}

/** A report that goes nowhere, for contexts made outside a served request. */
const UNREPORTED: OperationReport = { resolved: () => undefined, answered: () => undefined };

/**
 * Everything a resolver may use, made fresh for each GraphQL request: DataLoaders never share
 * results (or errors) between requests.
 */
export interface GatewayContext {
  requestId: string;
  /** Who is calling; `sources` holds only what they may read. */
  principal: Principal;
  sources: SourceRegistry;
  cursors: CursorCodec;
  caches: GatewayCaches;
  config: ServerConfig;
  /** The request's logger: every line carries its request id. */
  logger: Logger;
  report: OperationReport;
  /** Evidence exports; null when `server.exports` is not configured. */
  exports: ExportService | null;
  /** Aborts when the request's deadline passes or the client goes away. */
  signal: AbortSignal;
  /** When the request's time for scanning on runs out (see `EventConnectionDeps.scanUntilMs`); null: no limit. */
  scanUntilMs: number | null;
  /** See `EventConnectionDeps.readAhead`; null: always read ahead. */
  readAhead: (() => boolean) | null;
  /** The caller's budget of cost points, which the cost-limit plugin spends from; null when nothing is budgeted (outside a served request). */
  budget: CostBudget | null;
  loaders: {
    /** Events by global id, batched per request: one window read for the events of a source close in time where it can. */
    event: DataLoader<string, AuditEventModel | null>;
    /** `Actor.events` / `Target.events`; first pages of many owners share one traversal. */
    nestedEvents: DataLoader<NestedConnectionRequest, EventConnectionModel, string>;
  };
  /** Reported next to the data by the partial-errors plugin. */
  partialErrors: PartialError[];
  /** Sent by the same plugin in `extensions.warnings`. */
  warnings: PathWarning[];
}

/** What {@link createContext} needs that lives longer than a request. */
export interface ContextDeps {
  sources: SourceRegistry;
  cursors: CursorCodec;
  caches: GatewayCaches;
  config: ServerConfig;
  logger: Logger;
  exports: ExportService | null;
  /** See `EventConnectionDeps.readAhead`; absent: always read ahead. */
  readAhead?: () => boolean;
}

/**
 * A request's context. Its registry holds only the sources `principal` may read: everything a
 * resolver reaches goes through it.
 */
export function createContext(
  deps: ContextDeps,
  requestId: string,
  signal: AbortSignal,
  principal: Principal = ANONYMOUS,
  request: { logger: Logger; report: OperationReport; budget?: CostBudget | null; scanUntilMs?: number } = { logger: deps.logger.child({ reqId: requestId }), report: UNREPORTED },
): GatewayContext {
  const sources = deps.sources.scopedTo(principal.sources);
  const scoped = { ...deps, sources, principal };
  const readAhead = deps.readAhead ?? null;
  return {
    ...scoped,
    requestId,
    logger: request.logger.child({ principal: principal.id }),
    report: request.report,
    signal,
    budget: request.budget ?? null,
    scanUntilMs: request.scanUntilMs ?? null,
    readAhead,
    loaders: {
      event: createEventLoader(sources, deps.caches.events, signal),
      nestedEvents: createNestedConnectionLoader(connectionDeps({ ...scoped, signal, scanUntilMs: request.scanUntilMs ?? null, readAhead })),
    },
    partialErrors: [],
    warnings: [],
  };
}

/**
 * What the connection engine needs, from a request's context (or what the context is made of):
 * the one place that turns server settings into connection settings, for `auditEvents` and the
 * nested `Actor.events` / `Target.events` alike.
 */
export function connectionDeps(context: Pick<GatewayContext, 'sources' | 'cursors' | 'caches' | 'config' | 'signal' | 'principal' | 'scanUntilMs' | 'readAhead'>): EventConnectionDeps {
  return {
    sources: context.sources,
    // A cursor is signed for its caller: another caller's is refused like a forged one.
    cursorScope: context.principal.id,
    cursors: context.cursors,
    caches: context.caches,
    scanBudgetRequests: context.config.scanBudgetRequests,
    settleWindowMs: context.config.settleWindowMs,
    signal: context.signal,
    ...(context.scanUntilMs === null ? {} : { scanUntilMs: context.scanUntilMs }),
    ...(context.readAhead === null ? {} : { readAhead: context.readAhead }),
  };
}
