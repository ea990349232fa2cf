import type { Direction } from '../sources/data-source';
import { cursorForDifferentQuery, type SourceCursorState, type TraversalCursor } from './cursor';
import type { EventSelection } from './filter';
import { reverse, type EventKey } from './order';
import type { Paging } from './paging-args';

/** Where one page of a traversal starts, and how each source is read for it. */
export interface TraversalPlan {
  paging: Paging;
  /** The client's order. */
  order: Direction;
  /** The order sources are read in: `order`, reversed for a backward page. */
  traversal: Direction;
  /** When the page is served, ms. */
  nowMs: number;
  /** The snapshot instant: events after it are not listed by this traversal. */
  asOfMs: number;
  /** Where the traversal stands before this page; null before it took any event. */
  position: EventKey | null;
  /** Where a traversal that did not start at an end of the window started; every source is read bounded there. */
  origin: EventKey | null;
  /** Each source's state; a source without one starts at the edge of its (bounded) window. */
  baseStates: Record<string, SourceCursorState>;
}

/** What {@link planTraversal} works from. */
export interface PlanInput {
  paging: Paging;
  order: Direction;
  selection: EventSelection;
  /** The decoded `after`/`before` cursor, if any. */
  cursor: TraversalCursor | null;
  nowMs: number;
  /** See `ServerConfig.settleWindowMs`. */
  settleWindowMs: number;
}

/**
 * The plan of one page, from its arguments and cursor: pure, so the rules of how a cursor
 * continues (the same traversal, a turnaround, a tail, a position only) live in one place for
 * every connection. Throws BAD_USER_INPUT for a cursor of another query.
 */
export function planTraversal(input: PlanInput): TraversalPlan {
  const { paging, order, selection, cursor, nowMs } = input;
  const traversal: Direction = paging.mode === 'forward' ? order : reverse(order);
  const plan: TraversalPlan = { paging, order, traversal, nowMs, asOfMs: snapshotOf(nowMs, input.settleWindowMs), position: null, origin: null, baseStates: {} };
  if (cursor === null) return plan;
  if (cursor.queryFingerprint !== selection.fingerprint) throw cursorForDifferentQuery(paging.cursorArgument);

  const { resume } = cursor;
  if (resume.kind === 'tail' && cursor.traversal === 'ASC' && traversal === 'ASC') {
    // Everything up to the old snapshot was listed, so a newer snapshot from the same position
    // adds only events after it. Sources seek afresh: their old states ended at the old snapshot.
    return { ...plan, asOfMs: Math.max(cursor.snapshotMs, plan.asOfMs), position: cursor.position, origin: cursor.position };
  }
  if (resume.kind === 'sources' && cursor.traversal === traversal) {
    // The same traversal continues; a page of a turned traversal that listed nothing still
    // stands at its origin.
    return { ...plan, asOfMs: cursor.snapshotMs, position: cursor.position ?? resume.origin, origin: resume.origin, baseStates: resume.states };
  }
  // Source states only continue a traversal in the direction they were built in; the other way
  // (or when the cursor has none), a new traversal starts at the cursor's position.
  const turned: TraversalPlan = { ...plan, asOfMs: cursor.snapshotMs, position: cursor.position, origin: cursor.position };
  if (cursor.position === null && cursor.traversal !== traversal) {
    // The cursor stands before the first event of its own direction: nothing lies beyond it the other way.
    turned.baseStates = Object.fromEntries(selection.sourceIds.map((id) => [id, { r: null, x: 1 as const }]));
  }
  return turned;
}

/** The snapshot instant of a traversal starting at `nowMs`. */
export function snapshotOf(nowMs: number, settleWindowMs = 0): number {
  // One millisecond back: an event written later within the current millisecond must not join
  // a snapshot that has already been handed out.
  return nowMs - settleWindowMs - 1;
}
