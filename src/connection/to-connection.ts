import type { UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import type { TraversalCursor, TraversalResume } from './cursor';
import type { EventSelection } from './filter';
import { keyOf, type EventKey } from './order';
import type { TraversalPlan } from './plan';

export type SourcePageState = 'OK' | 'EXHAUSTED' | 'FAILED' | 'SKIPPED' | 'NOT_APPLICABLE';

/** How one source took part in one page. */
export interface SourcePageStatusModel {
  sourceId: string;
  status: SourcePageState;
  errorCode: string | null;
  upstreamRequests: number;
  /** Records of the upstream pages read for this page that could not be placed, and so were left out. */
  unusableRecords: number;
  /** Where the source's retention cuts the filter's window; null when it does not. */
  retainedFrom: Date | null;
}

/** Something the client should know about a page that is not an error: the data is whole as far as it goes. */
export type ConnectionWarning =
  | {
      code: 'SOURCE_RETENTION_EXCEEDED';
      message: string;
      source: string;
      /** ISO 8601: the oldest instant the source still keeps. */
      retainedFrom: string;
    }
  | {
      code: 'FILTER_NOT_APPLICABLE';
      message: string;
      source: string;
      /** The filter fields the source's records never carry, e.g. `filter.actorEmails`. */
      fields: string[];
    }
  | {
      code: 'UNUSABLE_RECORDS';
      message: string;
      source: string;
      /** Records left out: without a usable time or identity, or out of order behind what was listed. */
      count: number;
    };

export interface EventEdgeModel {
  node: AuditEventModel;
  /** Encodes the edge's cursor; lazy, because most clients only read `pageInfo` cursors. */
  cursor: () => string;
}

/** Relay page info; the cursors are computed when read. */
export interface PageInfoModel {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly startCursor: string | null;
  readonly endCursor: string | null;
}

/** One page of a connection, as {@link toConnection} builds it from what the sources gave. */
export interface ConnectionPage {
  edges: EventEdgeModel[];
  pageInfo: PageInfoModel;
  asOf: Date;
  sourceStatuses: SourcePageStatusModel[];
  /** Sources that failed for this page; reported in `errors` next to the partial data. */
  errors: UpstreamError[];
  /** Reported in the response's `extensions.warnings`. */
  warnings: ConnectionWarning[];
  /** True when every source read failed and nothing was listed: there is no partial answer. */
  allSourcesFailed: boolean;
}

/** How one source came out of reading one page. */
export interface SourceOutcome {
  sourceId: string;
  failure: UpstreamError | null;
  upstreamRequests: number;
  unusableRecords: number;
  /** True when the source has nothing more in this traversal. */
  exhausted: boolean;
}

/** What reading the sources gave for one page, in traversal terms. */
export interface PageOutcome {
  /** The events listed, in traversal order, each with how the traversal resumes right after it (lazy: most are never asked). */
  listed: Array<{ event: AuditEventModel; resume: () => TraversalResume }>;
  /** True when more events may follow in the traversal. */
  moreInTraversal: boolean;
  /** Where the traversal resumes when the page stopped short of its size (a source failed or spent its budget); null = after the last edge. */
  stoppedAt: { position: EventKey | null; resume: () => TraversalResume } | null;
  /** Set when the page ends an oldest-first traversal: its end cursor is a tail from this position. */
  tailFrom: { position: EventKey | null } | null;
  sources: SourceOutcome[];
  /** Days each source keeps events (from the source), for the retention warnings. */
  retentionDays: ReadonlyMap<string, number | null>;
}

/**
 * Relay edges and page info, source statuses and warnings of one page: a pure function of the
 * plan, the selection and what the sources gave. `encode` turns a cursor into its signed text;
 * cursors are encoded only when read (they are signed and deflated, and most are never asked for).
 */
export function toConnection(plan: TraversalPlan, selection: EventSelection, outcome: PageOutcome, encode: (cursor: TraversalCursor) => string): ConnectionPage {
  const { paging } = plan;
  const cursorAt = (position: EventKey | null, resume: TraversalResume): string =>
    encode({
      queryFingerprint: selection.fingerprint,
      snapshotMs: plan.asOfMs,
      issuedAtSeconds: Math.floor(plan.nowMs / 1000),
      traversal: plan.traversal,
      position,
      resume,
    });
  // Only the last edge read carries every source's state: a traversal continues from it (it is
  // the endCursor, or the startCursor of a backward page), and its batches are in the cache. Any
  // other edge's cursor holds its position alone, which a later page seeks from in every source,
  // as a cursor used the other way does: a fraction of the size, signed without deflate, where
  // a full state per edge made encoding cursors a third of a 50-edge page's CPU.
  const lastIndex = outcome.listed.length - 1;
  const edges: EventEdgeModel[] = outcome.listed.map(({ event, resume }, index) => ({
    node: event,
    cursor: once(() => cursorAt(keyOf(event), index === lastIndex ? resume() : { kind: 'position' })),
  }));
  // Taken before a backward page is reversed: the traversal resumes after its last edge read.
  const lastRead = edges[edges.length - 1];
  const { stoppedAt, tailFrom, moreInTraversal } = outcome;
  const resumeCursor = once(() => (stoppedAt ? cursorAt(stoppedAt.position, stoppedAt.resume()) : lastRead?.cursor() ?? null));

  if (paging.mode === 'backward') edges.reverse();
  const firstEdge = edges[0];
  const lastEdge = edges[edges.length - 1];
  const forward = paging.mode === 'forward';
  const startCursor = once(() => (!forward && moreInTraversal ? resumeCursor() : firstEdge?.cursor() ?? null));
  const endCursor = once(() =>
    forward && moreInTraversal ? resumeCursor() : tailFrom ? cursorAt(tailFrom.position, { kind: 'tail' }) : lastEdge?.cursor() ?? null,
  );
  const pageInfo: PageInfoModel = {
    hasNextPage: forward ? moreInTraversal : paging.cursor !== null,
    hasPreviousPage: forward ? paging.cursor !== null : moreInTraversal,
    get startCursor() {
      return startCursor();
    },
    get endCursor() {
      return endCursor();
    },
  };

  const { statuses, warnings } = statusesAndWarnings(plan, selection, outcome);
  const errors = outcome.sources.flatMap((source) => (source.failure ? [source.failure] : []));
  const allSourcesFailed = errors.length > 0 && errors.length === outcome.sources.length && edges.length === 0;
  return { edges, pageInfo, asOf: new Date(plan.asOfMs), sourceStatuses: statuses, errors, warnings, allSourcesFailed };
}

/** Each selected or left-out source's status, sorted by id, and the warnings the page carries. */
function statusesAndWarnings(plan: TraversalPlan, selection: EventSelection, outcome: PageOutcome): { statuses: SourcePageStatusModel[]; warnings: ConnectionWarning[] } {
  const warnings: ConnectionWarning[] = [];
  const retainedFrom = (sourceId: string): Date | null => {
    const horizon = retentionHorizon(outcome.retentionDays.get(sourceId) ?? null, selection.queries.get(sourceId)!.fromMs, plan.asOfMs);
    if (horizon === null) return null;
    const at = new Date(horizon);
    warnings.push({
      code: 'SOURCE_RETENTION_EXCEEDED',
      message: `source '${sourceId}' keeps events only since ${at.toISOString()}: the window starts earlier, and older events cannot be listed`,
      source: sourceId,
      retainedFrom: at.toISOString(),
    });
    return at;
  };
  for (const { sourceId, fields } of selection.notApplicable) {
    warnings.push({
      code: 'FILTER_NOT_APPLICABLE',
      message: `source '${sourceId}' records nothing that ${fields.join(', ')} can match, so none of its events match this filter; it was not read`,
      source: sourceId,
      fields,
    });
  }
  for (const source of outcome.sources) {
    if (source.unusableRecords === 0) continue;
    warnings.push({
      code: 'UNUSABLE_RECORDS',
      message: `source '${source.sourceId}' sent ${source.unusableRecords} record(s) the gateway could not place (without a usable time or identity, or out of order behind events already listed); they were left out of this page`,
      source: source.sourceId,
      count: source.unusableRecords,
    });
  }
  const unread = (sourceId: string, status: SourcePageState): SourcePageStatusModel => ({
    sourceId,
    status,
    errorCode: null,
    upstreamRequests: 0,
    unusableRecords: 0,
    retainedFrom: null,
  });
  const statuses: SourcePageStatusModel[] = [
    ...outcome.sources.map(
      (source): SourcePageStatusModel => ({
        sourceId: source.sourceId,
        status: source.failure ? 'FAILED' : source.exhausted ? 'EXHAUSTED' : 'OK',
        errorCode: source.failure?.code ?? null,
        upstreamRequests: source.upstreamRequests,
        unusableRecords: source.unusableRecords,
        retainedFrom: retainedFrom(source.sourceId),
      }),
    ),
    ...selection.skippedSourceIds.map((sourceId) => unread(sourceId, 'SKIPPED')),
    ...selection.notApplicable.map(({ sourceId }) => unread(sourceId, 'NOT_APPLICABLE')),
  ].sort((a, b) => (a.sourceId < b.sourceId ? -1 : 1));
  return { statuses, warnings };
}

/**
 * The oldest instant (ms) a source with `retentionDays` still keeps at the snapshot `asOfMs`, when
 * a window starting at `fromMs` reaches before it; null otherwise. A window without a start asks
 * for whatever exists, which retention does not cut short.
 */
export function retentionHorizon(retentionDays: number | null, fromMs: number | null, asOfMs: number): number | null {
  if (retentionDays === null || fromMs === null) return null;
  const horizon = asOfMs - retentionDays * 86_400_000;
  return fromMs < horizon ? horizon : null;
}

/** `compute`, called at most once. */
function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}
