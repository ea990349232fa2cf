import type { AuditEventModel } from '../models/audit-event';
import type { SourceCursorState } from './cursor';
import { compareEvents, keyOf, type EventKey } from './order';
import type { SourceStream } from './source-stream';

/** One listed event; `states()` gives the state of every source right after it. */
export interface MergedEdge {
  event: AuditEventModel;
  states: () => Record<string, SourceCursorState>;
}

/** The outcome of merging one page. */
export interface MergedPage {
  /** Up to `count + 1` edges: the extra one only tells that more follow. */
  edges: MergedEdge[];
  /** True when a source spent its request budget before the page was full. */
  budgetSpent: boolean;
  /** The states after everything read, for a resume point when the page stopped short. */
  finalStates: Record<string, SourceCursorState>;
  /** Key of the last event taken (listed or handed to `onEvent`). */
  lastKey: EventKey | null;
}

/** Options of {@link mergePage}. */
export interface MergeOptions {
  /** Events to list, the look-ahead one included. */
  limit: number;
  /** Page size each source batch is sized for. */
  fetchSize: number;
  baseStates: Record<string, SourceCursorState>;
  /**
   * Sees each event in order instead of the edge list; returns true when it has enough. Used by
   * the grouped nested connections, which distribute events rather than list them.
   */
  onEvent?: (event: AuditEventModel) => boolean;
  /**
   * Ends the merge as soon as a stream fails, before anything else is taken. A page lists on
   * without a failed source (its events come on later pages, possibly after events they
   * precede); a reader that must keep the exact order, such as an export, stops instead, retries
   * or drops the source, and merges on from the same streams.
   */
  stopOnFailure?: boolean;
}

/**
 * K-way merge of source streams in one order. A stream's head is listed only when it is settled
 * and no other stream can still produce something earlier; streams that might are fetched
 * concurrently, asking each for what the page still needs. Streams that fail drop out of this
 * page (their cursor state stays where it was, so a later page picks them up).
 */
export async function mergePage(streams: readonly SourceStream[], options: MergeOptions): Promise<MergedPage> {
  const { limit, fetchSize, baseStates, onEvent, stopOnFailure = false } = options;
  const direction = streams[0]?.direction ?? 'DESC';
  const edges: MergedEdge[] = [];
  const states: Record<string, SourceCursorState> = { ...baseStates };
  let budgetSpent = false;
  let taken = 0;
  let lastKey: EventKey | null = null;

  // Each take changes one source's state; an edge's full states are rebuilt only when its cursor
  // is asked for (usually just the last one), instead of copied for every edge.
  const changes: Array<{ sourceId: string; state: SourceCursorState }> = [];
  const statesAfter = (index: number): Record<string, SourceCursorState> => {
    const rebuilt: Record<string, SourceCursorState> = { ...baseStates };
    for (let i = 0; i <= index; i += 1) rebuilt[changes[i]!.sourceId] = changes[i]!.state;
    return rebuilt;
  };

  while (taken < limit) {
    let candidate: SourceStream | null = null;
    let candidateEvent: AuditEventModel | null = null;
    for (const stream of streams) {
      const head = stream.settledHead();
      if (head && (!candidateEvent || compareEvents(head, candidateEvent, direction) < 0)) {
        candidate = stream;
        candidateEvent = head;
      }
    }

    // A stream blocks the candidate while it might still produce something earlier.
    const blocks = (stream: SourceStream): boolean =>
      stream !== candidate && !stream.finished && !stream.settledHead() && !(candidateEvent && stream.isBehind(candidateEvent));
    const blocked = streams.some(blocks);
    const candidateUnsettledToo = candidate === null && streams.some((stream) => !stream.finished);
    if (blocked || candidateUnsettledToo) {
      const toFetch = blocked ? streams.filter(blocks) : streams.filter((stream) => !stream.finished);
      await Promise.all(toFetch.map((stream) => stream.fetchMore(fetchSize)));
      if (stopOnFailure && toFetch.some((stream) => stream.failure)) break;
      if (toFetch.some((stream) => stream.budgetSpent)) {
        const stillBlocking = toFetch.filter((stream) => stream.budgetSpent && !(candidateEvent && stream.isBehind(candidateEvent)));
        if (stillBlocking.length > 0) {
          budgetSpent = true;
          break;
        }
      }
      continue;
    }
    if (!candidate) break;

    const event = candidate.take();
    taken += 1;
    lastKey = keyOf(event);
    const change = { sourceId: candidate.sourceId, state: candidate.state() };
    states[change.sourceId] = change.state;
    if (onEvent) {
      if (onEvent(event)) break;
    } else {
      const index = changes.push(change) - 1;
      edges.push({ event, states: () => statesAfter(index) });
    }
  }

  // A failed stream keeps the state of its last listed event; the others may have read further.
  const finalStates: Record<string, SourceCursorState> = { ...states };
  for (const stream of streams) if (!stream.failure) finalStates[stream.sourceId] = stream.state();
  return { edges, budgetSpent, finalStates, lastKey };
}
