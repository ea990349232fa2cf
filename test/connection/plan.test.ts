import type { SourceCursorState, TraversalCursor } from '../../src/connection/cursor';
import type { EventSelection } from '../../src/connection/filter';
import type { EventKey } from '../../src/connection/order';
import type { Paging } from '../../src/connection/paging-args';
import { planTraversal, snapshotOf, type PlanInput, type TraversalPlan } from '../../src/connection/plan';
import { windowQuery } from '../../src/sources/data-source';

const NOW = 1_800_000_000_000;
/** The snapshot a traversal started at NOW would have: a millisecond back. */
const AS_OF_NOW = NOW - 1;
/** The snapshot of the traversal the cursors below come from, an hour earlier. */
const SNAPSHOT = NOW - 3_600_000;
const P: EventKey = [NOW - 7_200_000, 'beta', 'e-17'];
const O: EventKey = [NOW - 9_000_000, 'alpha', 'e-3'];
const STATES: Record<string, SourceCursorState> = {
  alpha: { r: { c: 'next-a' }, k: [NOW - 7_300_000, 'e-9'] },
  beta: { r: null, k: [P[0], P[2]] },
  gamma: { r: 7, x: 1 },
};

const FORWARD: Paging = { mode: 'forward', count: 10, cursor: null, cursorArgument: 'after' };
const AFTER: Paging = { ...FORWARD, cursor: 'after-text' };
const BACKWARD: Paging = { mode: 'backward', count: 10, cursor: null, cursorArgument: 'before' };
const BEFORE: Paging = { ...BACKWARD, cursor: 'before-text' };

const selection: EventSelection = {
  sourceIds: ['alpha', 'beta', 'gamma'],
  skippedSourceIds: [],
  notApplicable: [],
  queries: new Map(['alpha', 'beta', 'gamma'].map((id) => [id, windowQuery(null, null)])),
  matches: () => true,
  fingerprint: 'fp-query-1',
};

function input(paging: Paging, order: 'ASC' | 'DESC', cursor: TraversalCursor | null, settleWindowMs = 0): PlanInput {
  return { paging, order, selection, cursor, nowMs: NOW, settleWindowMs };
}

function cursorOf(fields: Partial<TraversalCursor> & Pick<TraversalCursor, 'traversal' | 'resume'>): TraversalCursor {
  return { queryFingerprint: 'fp-query-1', snapshotMs: SNAPSHOT, issuedAtSeconds: SNAPSHOT / 1000, position: P, ...fields };
}

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    const { message, extensions } = error as { message: string; extensions: unknown };
    return { message, extensions };
  }
  return 'nothing thrown';
}

describe('planTraversal', () => {
  describe('without a cursor', () => {
    it('starts a forward page at the edge of every source, in the client order, with a snapshot a millisecond back', () => {
      expect(planTraversal(input(FORWARD, 'DESC', null))).toEqual<TraversalPlan>({
        paging: FORWARD,
        order: 'DESC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: AS_OF_NOW,
        position: null,
        origin: null,
        baseStates: {},
      });
    });

    it('reads a backward page against the client order', () => {
      expect(planTraversal(input(BACKWARD, 'DESC', null))).toEqual<TraversalPlan>({
        paging: BACKWARD,
        order: 'DESC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: AS_OF_NOW,
        position: null,
        origin: null,
        baseStates: {},
      });
      expect(planTraversal(input(BACKWARD, 'ASC', null)).traversal).toBe('DESC');
    });

    it('ends the snapshot the settle window further back', () => {
      expect(planTraversal(input(FORWARD, 'ASC', null, 5_000))).toEqual<TraversalPlan>({
        paging: FORWARD,
        order: 'ASC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: NOW - 5_001,
        position: null,
        origin: null,
        baseStates: {},
      });
      expect(snapshotOf(NOW)).toBe(AS_OF_NOW);
      expect(snapshotOf(NOW, 250)).toBe(NOW - 251);
    });
  });

  describe('with a cursor of the same traversal', () => {
    it('continues from each source state, at the cursor position and the snapshot of the first page', () => {
      const cursor = cursorOf({ traversal: 'DESC', resume: { kind: 'sources', states: STATES, origin: null } });
      expect(planTraversal(input(AFTER, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: AFTER,
        order: 'DESC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: P,
        origin: null,
        baseStates: STATES,
      });
    });

    it('keeps the origin of a turned traversal on every later page of it', () => {
      const cursor = cursorOf({ traversal: 'ASC', resume: { kind: 'sources', states: STATES, origin: O } });
      expect(planTraversal(input(BEFORE, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: BEFORE,
        order: 'DESC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: P,
        origin: O,
        baseStates: STATES,
      });
    });

    it('stands at the origin when a page of a turned traversal listed nothing yet', () => {
      const cursor = cursorOf({ traversal: 'ASC', position: null, resume: { kind: 'sources', states: STATES, origin: O } });
      expect(planTraversal(input(BEFORE, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: BEFORE,
        order: 'DESC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: O,
        origin: O,
        baseStates: STATES,
      });
    });

    it('continues a first page that stopped before taking any event from its source states, with no position', () => {
      const cursor = cursorOf({ traversal: 'DESC', position: null, resume: { kind: 'sources', states: STATES, origin: null } });
      expect(planTraversal(input(AFTER, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: AFTER,
        order: 'DESC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: null,
        origin: null,
        baseStates: STATES,
      });
    });

    it('seeks every source at the position of a position-only cursor, which becomes the origin', () => {
      const cursor = cursorOf({ traversal: 'DESC', resume: { kind: 'position' } });
      expect(planTraversal(input(AFTER, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: AFTER,
        order: 'DESC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: P,
        origin: P,
        baseStates: {},
      });
    });
  });

  describe('with a cursor used the other way', () => {
    it('drops the source states and starts a new traversal at the cursor position, in the same snapshot', () => {
      const cursor = cursorOf({ traversal: 'DESC', resume: { kind: 'sources', states: STATES, origin: null } });
      expect(planTraversal(input(BEFORE, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: BEFORE,
        order: 'DESC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: P,
        origin: P,
        baseStates: {},
      });
    });

    it('turns a turned traversal back at the cursor position, not at its old origin', () => {
      const cursor = cursorOf({ traversal: 'ASC', resume: { kind: 'sources', states: STATES, origin: O } });
      expect(planTraversal(input(AFTER, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: AFTER,
        order: 'DESC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: P,
        origin: P,
        baseStates: {},
      });
    });

    it('marks every selected source exhausted for a cursor standing before the first event of its own direction', () => {
      const cursor = cursorOf({ traversal: 'DESC', position: null, resume: { kind: 'sources', states: STATES, origin: null } });
      expect(planTraversal(input(BEFORE, 'DESC', cursor))).toEqual<TraversalPlan>({
        paging: BEFORE,
        order: 'DESC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: null,
        origin: null,
        baseStates: { alpha: { r: null, x: 1 }, beta: { r: null, x: 1 }, gamma: { r: null, x: 1 } },
      });
    });
  });

  describe('with a tail cursor (the end of an oldest-first traversal)', () => {
    const tail = cursorOf({ traversal: 'ASC', resume: { kind: 'tail' } });

    it('followed later, lists from its position in a newer snapshot, every source seeking afresh', () => {
      expect(planTraversal(input(AFTER, 'ASC', tail))).toEqual<TraversalPlan>({
        paging: AFTER,
        order: 'ASC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: AS_OF_NOW,
        position: P,
        origin: P,
        baseStates: {},
      });
    });

    it('never moves the snapshot back when followed on a replica whose clock is behind', () => {
      const ahead = { ...tail, snapshotMs: NOW + 60_000 };
      expect(planTraversal(input(AFTER, 'ASC', ahead))).toEqual<TraversalPlan>({
        paging: AFTER,
        order: 'ASC',
        traversal: 'ASC',
        nowMs: NOW,
        asOfMs: NOW + 60_000,
        position: P,
        origin: P,
        baseStates: {},
      });
    });

    it('used backward, turns at its position inside its own snapshot', () => {
      expect(planTraversal(input(BEFORE, 'ASC', tail))).toEqual<TraversalPlan>({
        paging: BEFORE,
        order: 'ASC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: P,
        origin: P,
        baseStates: {},
      });
    });

    it('of a traversal that listed nothing, used backward, finds nothing before it', () => {
      const empty = { ...tail, position: null };
      expect(planTraversal(input(BEFORE, 'ASC', empty))).toEqual<TraversalPlan>({
        paging: BEFORE,
        order: 'ASC',
        traversal: 'DESC',
        nowMs: NOW,
        asOfMs: SNAPSHOT,
        position: null,
        origin: null,
        baseStates: { alpha: { r: null, x: 1 }, beta: { r: null, x: 1 }, gamma: { r: null, x: 1 } },
      });
    });
  });

  describe('with a cursor of another query', () => {
    it('refuses it as CURSOR_INVALID, naming the cursor argument', () => {
      const cursor = cursorOf({ queryFingerprint: 'fp-query-2', traversal: 'DESC', resume: { kind: 'sources', states: STATES, origin: null } });
      expect(refusal(() => planTraversal(input(AFTER, 'DESC', cursor)))).toEqual({
        message: 'after: cursor was issued for a different query (filter or order)',
        extensions: { code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID', field: 'after' },
      });
      expect(refusal(() => planTraversal(input(BEFORE, 'DESC', cursor)))).toEqual({
        message: 'before: cursor was issued for a different query (filter or order)',
        extensions: { code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID', field: 'before' },
      });
    });

    it('refuses a tail of another query too, before anything else is decided', () => {
      const tail = cursorOf({ queryFingerprint: 'fp-query-2', traversal: 'ASC', resume: { kind: 'tail' } });
      expect(refusal(() => planTraversal(input(AFTER, 'ASC', tail)))).toEqual({
        message: 'after: cursor was issued for a different query (filter or order)',
        extensions: { code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID', field: 'after' },
      });
    });
  });
});
