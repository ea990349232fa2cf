import { setTimeout as sleep } from 'node:timers/promises';
import { createGatewayCaches, type BatchCache } from '../connection/caches';
import type { SourceCursorState } from '../connection/cursor';
import { boundQuery } from '../connection/events-connection';
import { mergePage } from '../connection/merge';
import { SourceStream } from '../connection/source-stream';
import { retentionHorizon } from '../connection/to-connection';
import type { UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import { retentionDaysOf } from '../sources/data-source';
import { countingUnusableRecords } from './counted-source';
import type { EventSelection } from '../connection/filter';
import type { Logger } from '../logger';
import type { SourceRegistry } from '../sources/registry';
import type { ExportJob } from './job';
import type { ExportSettings } from './settings';

/** What reading the sources of an export needs. */
export interface SourceReading {
  /** Its progress and sources are updated in place. */
  job: ExportJob;
  selection: EventSelection;
  /** The registry of the caller that started the export: only its sources. */
  sources: SourceRegistry;
  settings: Pick<ExportSettings, 'sourceRetries' | 'tolerateSourceFailure'>;
  signal: AbortSignal;
  logger: Logger;
  /** Wait before reading a failed source again, by attempt (1, 2, …); default 500 ms × 2^(attempt−1). */
  retryDelayMs?: (attempt: number) => number;
}

/** Events merged between two writes to disk (and two checks for cancellation). */
const CHUNK_EVENTS = 500;
/** Events each source batch is sized for; vendors cap it at their largest page. */
const BATCH_EVENTS = 250;
/**
 * Events the export's own batch cache holds: the read-ahead batch of every source, and the batch a
 * failed source's new stream starts by reading again. Not the gateway's shared cache, which a
 * million-event export would flush for every other client.
 */
const CACHE_EVENTS = 4_000;
/** An export reads each source to its end: no per-page request budget applies. */
const UNBOUNDED = 1e12;

/** The cancellation of a run, told apart from a failure wherever it surfaces. */
export class Cancelled extends Error {}

/** A source that kept failing, without `tolerateSourceFailure`. */
export class SourceFailed extends Error {
  constructor(readonly failure: UpstreamError) {
    super(failure.message);
  }
}

/** Where a source's retention cuts the window, as `auditEvents` warns of it: the manifest says so. */
export async function noteRetention(run: SourceReading): Promise<void> {
  const asOfMs = Date.parse(run.job.asOf);
  await Promise.all(
    run.job.sources.map(async (record) => {
      if (record.status !== 'READING') return;
      const fromMs = run.selection.queries.get(record.sourceId)!.fromMs;
      if (fromMs === null) return;
      try {
        const days = await retentionDaysOf(run.sources.get(record.sourceId)!.dataSource, run.signal);
        const horizon = retentionHorizon(days, fromMs, asOfMs);
        record.retainedFrom = horizon === null ? null : new Date(horizon).toISOString();
      } catch (error) {
        // The policy could not be read now; the events are read all the same.
        run.logger.warn({ err: error, source: record.sourceId, exportId: run.job.id }, 'retention policy unavailable for an export');
      }
    }),
  );
}

/** The merge loop: chunks of events in order, written as they come, with failed sources retried. */
export async function mergeSources(run: SourceReading, writer: { write(event: AuditEventModel): void; flush(): Promise<void> }): Promise<void> {
  const { job, selection, signal } = run;
  const direction = job.order;
  const asOfMs = Date.parse(job.asOf);
  const batches: BatchCache = createGatewayCaches({ maxCachedEvents: CACHE_EVENTS, maxRecentEvents: 1 }).batches;
  const records = new Map(job.sources.map((record) => [record.sourceId, record]));
  const dataSources = new Map(
    selection.sourceIds.map((sourceId) => [
      sourceId,
      countingUnusableRecords(run.sources.get(sourceId)!.dataSource, (count) => {
        records.get(sourceId)!.unusableRecords += count;
      }),
    ]),
  );
  // One stream a source for the whole export: what a stream keeps is its current and next batch,
  // whatever it has listed, and a new one would read again the batch the last one stopped in. A
  // source is read again from its state only after it failed.
  const openStream = (sourceId: string, state: SourceCursorState | undefined) =>
    new SourceStream({
      dataSource: dataSources.get(sourceId)!,
      query: boundQuery(selection.queries.get(sourceId)!, asOfMs, null, direction),
      direction,
      state,
      asOfMs,
      skipThrough: null,
      matches: selection.matches,
      requestBudget: UNBOUNDED,
      alone: selection.sourceIds.length === 1,
      sources: selection.sourceIds.length,
      cache: batches,
      signal,
    });
  const active = new Map(selection.sourceIds.map((sourceId) => [sourceId, openStream(sourceId, undefined)]));
  const attempts = new Map<string, number>();
  const onEvent = (event: AuditEventModel): boolean => {
    writer.write(event);
    records.get(event.sourceId)!.eventsWritten += 1;
    job.progress.eventsWritten += 1;
    return false;
  };

  while (active.size > 0) {
    if (signal.aborted) throw new Cancelled();
    const streams = [...active.values()];
    const before = new Map(streams.map((stream) => [stream.sourceId, records.get(stream.sourceId)!.eventsWritten]));
    await mergePage(streams, { limit: CHUNK_EVENTS, fetchSize: BATCH_EVENTS, baseStates: {}, onEvent, stopOnFailure: true });
    // The next batches are fetched while this chunk is written; a stream reopened below finds
    // them in the cache.
    for (const stream of streams) stream.readAhead(BATCH_EVENTS);
    await writer.flush();
    if (signal.aborted) throw new Cancelled();

    for (const stream of streams) {
      const record = records.get(stream.sourceId)!;
      if (stream.failure) {
        const attempt = (attempts.get(stream.sourceId) ?? 0) + 1;
        attempts.set(stream.sourceId, attempt);
        run.logger.warn({ exportId: job.id, source: stream.sourceId, code: stream.failure.code, attempt }, 'source failed during an export');
        if (attempt <= run.settings.sourceRetries) {
          await sleep((run.retryDelayMs ?? defaultRetryDelay)(attempt), undefined, { signal }).catch(() => {
            throw new Cancelled();
          });
          // Its state is that of its last written event: a new stream re-reads from there.
          active.set(stream.sourceId, openStream(stream.sourceId, stream.state()));
          continue;
        }
        record.status = 'INCOMPLETE';
        record.errorCode = stream.failure.code;
        if (!run.settings.tolerateSourceFailure) throw new SourceFailed(stream.failure);
        active.delete(stream.sourceId);
      } else if (stream.isExhausted) {
        record.status = 'COMPLETE';
        active.delete(stream.sourceId);
      } else {
        // A source that delivers again has recovered: later failures get retries of their own.
        if (record.eventsWritten > before.get(stream.sourceId)!) attempts.delete(stream.sourceId);
      }
    }
    job.progress.sourcesDone = job.sources.filter((record) => record.status === 'COMPLETE' || record.status === 'INCOMPLETE').length;
  }
}

function defaultRetryDelay(attempt: number): number {
  return 500 * 2 ** (attempt - 1);
}
