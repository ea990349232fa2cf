import { ErrorCode, UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import type { AuditDataSource, SourceQuery } from '../sources/data-source';
import { scanSource, type ScanEnd } from './scan';
import { bump, Tally } from './tally';

/**
 * What an answer needs of each source, from the cheapest to the dearest to count:
 * - `TOTAL`: how many events (`totalEvents`, `bySource`);
 * - `BREAKDOWN`: also by action, category and actor type;
 * - `FULL`: also by actor and by hour (`topActors`, `histogram`), which no vendor counts.
 */
export type StatisticsNeed = 'TOTAL' | 'BREAKDOWN' | 'FULL';

/** How one source was counted; mirrors the GraphQL enum `StatisticsSourceState`. */
export type SourceCountState = 'NATIVE' | 'SCANNED' | 'FAILED' | 'INCOMPLETE' | 'SKIPPED' | 'NOT_APPLICABLE';

export interface SourceCountStatus {
  sourceId: string;
  state: SourceCountState;
  upstreamRequests: number;
  /** Events the upstream sent for a scan. */
  eventsScanned: number;
  /** Events counted, when the source was counted whole (NATIVE or SCANNED); null otherwise. */
  eventsCounted: number | null;
  /** The error code of a FAILED source; `SCAN_BUDGET_EXCEEDED` or `DEADLINE_EXCEEDED` for an INCOMPLETE one. */
  errorCode: string | null;
  unusableRecords: number;
}

/** One source counted: its status, and its counts when it was counted whole. */
export interface SourceCount {
  status: SourceCountStatus;
  tally: Tally | null;
  failure: UpstreamError | null;
}

/** What {@link countSource} needs. */
export interface CountSourceOptions {
  dataSource: AuditDataSource;
  /** The source's query, already cut to the snapshot. */
  query: SourceQuery;
  asOfMs: number;
  matches: (event: AuditEventModel) => boolean;
  need: StatisticsNeed;
  /**
   * True when `query` says all the filter asks (no category, no actor or target id that only the
   * gateway can match): only then can a vendor's count of the query be the filter's count.
   */
  queryIsWhole: boolean;
  maxScanRequests: number;
  deadlineMs: number;
  now: () => number;
  signal: AbortSignal;
}

export const SCAN_BUDGET_EXCEEDED = 'SCAN_BUDGET_EXCEEDED';
export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

/**
 * Counts one source the cheapest exact way: the vendor's own count where it answers exactly what
 * is needed (`countEvents` for a total; the vendor's statistics for a bare window), else a scan.
 * A vendor that cannot say for this query (null) is scanned; one that fails is FAILED, never
 * guessed.
 */
export async function countSource(options: CountSourceOptions): Promise<SourceCount> {
  const { dataSource, query, need, signal } = options;
  const sourceId = dataSource.sourceId;
  try {
    if (options.queryIsWhole && need === 'TOTAL' && dataSource.capabilities.countsTotal && dataSource.countEvents) {
      const counter = { requests: 0 };
      const count = await dataSource.countEvents(query, signal, counter);
      if (count !== null) {
        const tally = new Tally(sourceId);
        tally.total = count;
        return native(sourceId, tally, counter.requests);
      }
    }
    if (options.queryIsWhole && need !== 'FULL' && dataSource.nativeStatistics && isBareWindow(query)) {
      const statistics = await dataSource.nativeStatistics.statistics({ fromMs: query.fromMs, toMs: query.toMs }, signal);
      const tally = new Tally(sourceId);
      tally.total = statistics.totalEvents;
      for (const { key, count } of statistics.byEventType) bump(tally.byAction, key, count);
      for (const { category, count } of statistics.byCategory) bump(tally.byCategory, category, count);
      for (const { actorType, count } of statistics.byActorType) bump(tally.byActorType, actorType, count);
      return native(sourceId, tally, 1);
    }
  } catch (error) {
    return failed(sourceId, asUpstreamError(error, sourceId), 0);
  }

  const tally = new Tally(sourceId);
  const scan = await scanSource({ ...options, maxRequests: options.maxScanRequests, onEvent: (event) => tally.add(event) });
  const status: SourceCountStatus = {
    sourceId,
    state: scanState(scan.end),
    upstreamRequests: scan.upstreamRequests,
    eventsScanned: scan.eventsScanned,
    eventsCounted: scan.end === 'DONE' ? tally.total : null,
    errorCode: scan.end === 'FAILED' ? scan.failure!.code : scan.end === 'BUDGET' ? SCAN_BUDGET_EXCEEDED : scan.end === 'DEADLINE' ? DEADLINE_EXCEEDED : null,
    unusableRecords: scan.unusableRecords,
  };
  return { status, tally: scan.end === 'DONE' ? tally : null, failure: scan.failure };
}

function scanState(end: ScanEnd): SourceCountState {
  return end === 'DONE' ? 'SCANNED' : end === 'FAILED' ? 'FAILED' : 'INCOMPLETE';
}

function native(sourceId: string, tally: Tally, upstreamRequests: number): SourceCount {
  return {
    status: { sourceId, state: 'NATIVE', upstreamRequests, eventsScanned: 0, eventsCounted: tally.total, errorCode: null, unusableRecords: 0 },
    tally,
    failure: null,
  };
}

function failed(sourceId: string, failure: UpstreamError, upstreamRequests: number): SourceCount {
  return {
    status: { sourceId, state: 'FAILED', upstreamRequests, eventsScanned: 0, eventsCounted: null, errorCode: failure.code, unusableRecords: 0 },
    tally: null,
    failure,
  };
}

function asUpstreamError(error: unknown, sourceId: string): UpstreamError {
  return error instanceof UpstreamError ? error : new UpstreamError(ErrorCode.UpstreamUnavailable, sourceId, { logDetail: { reason: String(error) } });
}

/** True when `query` asks for nothing but a window: what a vendor's statistics of a window count. */
function isBareWindow(query: SourceQuery): boolean {
  return (Object.keys(query) as (keyof SourceQuery)[]).every((field) => field === 'fromMs' || field === 'toMs' || query[field] === null);
}
