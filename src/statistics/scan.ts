import { ErrorCode, UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import type { AuditDataSource, SourceQuery, SourceResume } from '../sources/data-source';

/** How a scan ended: read to the end, or stopped by its request budget, its deadline or a failure. */
export type ScanEnd = 'DONE' | 'BUDGET' | 'DEADLINE' | 'FAILED';

/** What one source's scan did. */
export interface ScanOutcome {
  end: ScanEnd;
  failure: UpstreamError | null;
  upstreamRequests: number;
  /** Events the upstream sent, matching or not. */
  eventsScanned: number;
  /** Records the datasource could not place (record policy). */
  unusableRecords: number;
}

/** Options of {@link scanSource}. */
export interface ScanOptions {
  dataSource: AuditDataSource;
  /** The source's query, already cut to the snapshot. */
  query: SourceQuery;
  /** Events after this instant are outside the snapshot. */
  asOfMs: number;
  /** The gateway's own test of the whole filter. */
  matches: (event: AuditEventModel) => boolean;
  /** Upstream requests the scan may make; it stops before the batch that would start beyond them. */
  maxRequests: number;
  /** No batch is started at or after this instant (ms, on `now`). */
  deadlineMs: number;
  now: () => number;
  signal: AbortSignal;
  /** Called once for every event of the snapshot that matches. */
  onEvent: (event: AuditEventModel) => void;
}

/**
 * Reads every event of one source matching a filter, through its datasource in its native order
 * at the largest page it allows, resuming with `next`: the fewest upstream requests a scan can
 * cost (about ceil(N / maxPageSize) + 1), and none of the gateway's page machinery.
 *
 * It lists what a traversal of `auditEvents` lists: events after the snapshot are left out, the
 * gateway's filter is re-applied, and an event an upstream sends twice (batches overlap only in
 * the millisecond they share, so only there) is counted once. Memory holds one batch at a time
 * and the ids at the edge between batches.
 */
export async function scanSource(options: ScanOptions): Promise<ScanOutcome> {
  const { dataSource, query, asOfMs, matches, signal, onEvent } = options;
  const direction = dataSource.capabilities.nativeOrder;
  const outcome: ScanOutcome = { end: 'DONE', failure: null, upstreamRequests: 0, eventsScanned: 0, unusableRecords: 0 };
  const beyond = (t: number, edge: number) => (direction === 'DESC' ? t < edge : t > edge);
  let resume: SourceResume | null = null;
  let edgeMs: number | null = null;
  let edgeIds = new Set<string>();
  try {
    for (;;) {
      if (outcome.upstreamRequests >= options.maxRequests) return { ...outcome, end: 'BUDGET' };
      if (options.now() >= options.deadlineMs) return { ...outcome, end: 'DEADLINE' };
      const batch = await dataSource.listEvents({ direction, query, resume, limit: dataSource.capabilities.maxPageSize, signal });
      outcome.upstreamRequests += batch.upstreamRequests;
      outcome.unusableRecords += batch.unusableRecords ?? 0;
      outcome.eventsScanned += batch.events.length;

      // An event is its time and id, as the merge tells repeats apart.
      const seen = new Map<string, number>();
      let batchEdge: number | null = null;
      for (const event of batch.events) {
        const t = event.occurredAtMs;
        if (batchEdge === null || beyond(t, batchEdge)) batchEdge = t;
        if (seen.get(event.sourceEventId) === t) continue;
        seen.set(event.sourceEventId, t);
        if (t === edgeMs && edgeIds.has(event.sourceEventId)) continue;
        if (t > asOfMs || !matches(event)) continue;
        onEvent(event);
      }
      if (batchEdge !== null) {
        if (edgeMs === null || beyond(batchEdge, edgeMs)) {
          edgeMs = batchEdge;
          edgeIds = new Set();
        }
        for (const event of batch.events) if (event.occurredAtMs === edgeMs) edgeIds.add(event.sourceEventId);
      }

      if (batch.next === null || (edgeMs !== null && pastWindow(edgeMs, query, direction))) return outcome;
      if (JSON.stringify(batch.next) === JSON.stringify(resume)) {
        throw new UpstreamError(ErrorCode.UpstreamProtocolError, dataSource.sourceId, { logDetail: { reason: 'resume state did not advance' } });
      }
      resume = batch.next;
    }
  } catch (error) {
    if (signal.aborted) return { ...outcome, end: 'DEADLINE' };
    const failure = error instanceof UpstreamError ? error : new UpstreamError(ErrorCode.UpstreamUnavailable, dataSource.sourceId, { logDetail: { reason: String(error) } });
    return { ...outcome, end: 'FAILED', failure };
  }
}

/** True once the furthest time read lies past the window's far end: no later batch can match. */
function pastWindow(edgeMs: number, query: SourceQuery, direction: 'ASC' | 'DESC'): boolean {
  return direction === 'DESC' ? query.fromMs !== null && edgeMs < query.fromMs : query.toMs !== null && edgeMs >= query.toMs;
}
