import DataLoader from 'dataloader';
import type { RecentEvents } from '../connection/recent-events';
import type { AuditEventModel } from '../models/audit-event';
import { windowQuery, type AuditDataSource, type EventRef, type SourceResume } from '../sources/data-source';
import type { SourceRegistry } from '../sources/registry';
import { decodeGlobalId } from './global-id';

/** Ids one loader batch takes; `nodes(ids:)` accepts as many. */
export const MAX_IDS_PER_BATCH = 100;
/** Refs of one source further apart than this are looked for in separate windows. */
export const MAX_CLUSTER_GAP_MS = 60 * 60_000;
/** Batches one window read may take before the refs it has not reached are fetched one by one. */
const MAX_WINDOW_BATCHES = 3;

/** One wanted event: where its answer goes and how to find it. */
export interface WantedEvent {
  index: number;
  ref: EventRef;
}

type Answer = AuditEventModel | null | Error;

/**
 * A per-request loader of events by global id. Ids are grouped by source; each source is asked
 * concurrently. Where the datasource applies time windows itself, ids close in time are found
 * with one window read (one upstream call for many ids, as no vendor has a multi-id lookup), and
 * only what that read did not reach is fetched one by one; elsewhere each id costs one lookup.
 * An id of an unknown source, or of another type, is null (it names nothing this gateway can
 * show). Errors are per key and live only as long as the request, so a source that fails and
 * recovers is asked again by the next request.
 */
export function createEventLoader(sources: SourceRegistry, recent: RecentEvents, signal: AbortSignal): DataLoader<string, AuditEventModel | null> {
  return new DataLoader<string, AuditEventModel | null>(
    async (ids) => {
      const answers: Answer[] = ids.map(() => null);
      const bySource = new Map<AuditDataSource, WantedEvent[]>();
      ids.forEach((id, index) => {
        let decoded;
        try {
          decoded = decodeGlobalId(id);
        } catch (error) {
          answers[index] = error as Error;
          return;
        }
        if (decoded.type !== 'AuditEvent') return;
        const source = sources.get(decoded.sourceId);
        if (!source) return;
        const seen = recent.get(id);
        if (seen) {
          answers[index] = seen;
          return;
        }
        const wanted = bySource.get(source.dataSource) ?? [];
        wanted.push({ index, ref: { sourceEventId: decoded.sourceEventId, occurredAtMs: decoded.occurredAtMs } });
        bySource.set(source.dataSource, wanted);
      });
      await Promise.all([...bySource].map(([dataSource, wanted]) => loadFromSource(dataSource, wanted, answers, signal)));
      for (const [index, answer] of answers.entries()) if (answer !== null && !(answer instanceof Error)) recent.remember(ids[index]!, answer);
      return answers;
    },
    { maxBatchSize: MAX_IDS_PER_BATCH },
  );
}

/** Fills `answers` for the events wanted of one source. */
async function loadFromSource(dataSource: AuditDataSource, wanted: readonly WantedEvent[], answers: Answer[], signal: AbortSignal): Promise<void> {
  const windowed = dataSource.capabilities.nativeFilters.includes('window');
  const clusters = windowed ? clusterByTime(wanted, MAX_CLUSTER_GAP_MS) : wanted.map((one) => [one]);
  await Promise.all(
    clusters.map(async (cluster) => {
      let rest: readonly WantedEvent[] = cluster;
      if (cluster.length > 1) {
        try {
          rest = await findInWindow(dataSource, cluster, answers, signal);
        } catch (error) {
          // The upstream failed; asking it again once per id would only multiply the failure.
          for (const { index } of cluster) answers[index] = error as Error;
          return;
        }
      }
      await Promise.all(
        rest.map(async ({ index, ref }) => {
          try {
            answers[index] = await dataSource.getEvent(ref, signal);
          } catch (error) {
            answers[index] = error as Error;
          }
        }),
      );
    }),
  );
}

/**
 * Groups refs by time, oldest first: a new group starts where the gap to the previous ref is
 * over `maxGapMs`, or where a group holds {@link MAX_IDS_PER_BATCH}.
 */
export function clusterByTime(wanted: readonly WantedEvent[], maxGapMs: number): WantedEvent[][] {
  const sorted = [...wanted].sort((a, b) => a.ref.occurredAtMs - b.ref.occurredAtMs);
  const clusters: WantedEvent[][] = [];
  let current: WantedEvent[] = [];
  for (const one of sorted) {
    const previous = current[current.length - 1];
    if (previous && (one.ref.occurredAtMs - previous.ref.occurredAtMs > maxGapMs || current.length >= MAX_IDS_PER_BATCH)) {
      clusters.push(current);
      current = [];
    }
    current.push(one);
  }
  if (current.length > 0) clusters.push(current);
  return clusters;
}

/**
 * Reads the window spanning `cluster` in the source's native order, answering every ref it
 * meets; returns the refs it did not meet (beyond the batches read, or absent), which the caller
 * looks up one by one: a window read only ever speeds a lookup up, it never decides that an event
 * does not exist.
 */
async function findInWindow(dataSource: AuditDataSource, cluster: readonly WantedEvent[], answers: Answer[], signal: AbortSignal): Promise<WantedEvent[]> {
  const direction = dataSource.capabilities.nativeOrder;
  const times = cluster.map((one) => one.ref.occurredAtMs);
  const query = windowQuery(Math.min(...times), Math.max(...times) + 1);
  const { minPageSize, maxPageSize } = dataSource.capabilities;
  // The ids asked for usually come from one listed page: room for them and as many neighbours.
  const limit = Math.max(minPageSize, Math.min(maxPageSize, Math.max(100, cluster.length * 2)));
  const pending = new Map(cluster.map((one) => [refKey(one.ref.occurredAtMs, one.ref.sourceEventId), one]));
  let resume: SourceResume | null = null;
  for (let batch = 0; batch < MAX_WINDOW_BATCHES && pending.size > 0; batch++) {
    const result = await dataSource.listEvents({ direction, query, resume, limit, signal });
    for (const event of result.events) {
      const key = refKey(event.occurredAtMs, event.sourceEventId);
      const one = pending.get(key);
      if (one) {
        answers[one.index] = event;
        pending.delete(key);
      }
    }
    if (result.next === null) break;
    resume = result.next;
  }
  return [...pending.values()];
}

function refKey(occurredAtMs: number, sourceEventId: string): string {
  return `${occurredAtMs}\u0000${sourceEventId}`;
}
