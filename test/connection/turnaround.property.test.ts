import fc from 'fast-check';
import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionArgs, type EventConnectionDeps } from '../../src/connection/events-connection';
import { compareKeys, keyOf } from '../../src/connection/order';
import type { Direction } from '../../src/sources/data-source';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

/** One listed edge: its event's key as text and its cursor. */
interface ListedEdge {
  key: string;
  cursor: string;
}

interface SourceSpec {
  count: number;
  /** Distinct instants per event: below 1, many ties. */
  spread: number;
  batch: number;
  /** False: the source cannot filter by time, so a turnaround scans to its position. */
  windows: boolean;
  seed: number;
}

interface Turn {
  /** Where in the forward list to turn (a fraction of its length). */
  at: number;
  pageSize: number;
  /** Where in the backward list to turn forward again. */
  again: number;
}

const sourceSpec: fc.Arbitrary<SourceSpec> = fc.record({
  count: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 100, max: 400 })),
  spread: fc.double({ min: 0.25, max: 3, noNaN: true }),
  batch: fc.integer({ min: 5, max: 60 }),
  windows: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

const turn: fc.Arbitrary<Turn> = fc.record({
  at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  pageSize: fc.integer({ min: 1, max: 40 }),
  again: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

/** A small deterministic generator, so that a data set is a function of its spec. */
function times(spec: SourceSpec): number[] {
  let state = spec.seed;
  return Array.from({ length: spec.count }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    // The high bits: the low bits of this generator repeat with a short period.
    return 1_700_000_000_000 + ((state >>> 12) % Math.max(1, Math.floor(spec.count * spec.spread))) * 10;
  });
}

/**
 * Events of one source sharing an instant must fit in ten times what a page may read (README,
 * known limits): 20 batches of at least 3 events (a page of 1 and its margin) for these data sets.
 */
const MAX_TIE = 20;

function largestTie(instants: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const t of instants) counts.set(t, (counts.get(t) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

function setup(specs: readonly SourceSpec[], scanBudgetRequests: number) {
  const events = specs.map((spec, s) => times(spec).map((t, i) => fakeEvent(`s${s}`, `e${(i * 7919) % 10_007}-${i}`, t)));
  const sources = specs.map((spec, s) => new FakeDataSource(`s${s}`, events[s]!, () => spec.batch, spec.windows));
  const deps: EventConnectionDeps = {
    sources: registryOf(sources),
    cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }),
    caches: createGatewayCaches(),
    scanBudgetRequests,
    cursorScope: '',
    settleWindowMs: 0,
    signal: AbortSignal.timeout(60_000),
  };
  return { events: events.flat(), deps };
}

/**
 * Pages from `cursor` to the end of the traversal in `mode`, keeping every edge's own cursor.
 * Pages that stop short (scan budget spent) may be empty; their end cursors resume the scan.
 */
async function traverse(deps: EventConnectionDeps, order: Direction, mode: 'forward' | 'backward', pageSize: number, cursor: string | null): Promise<ListedEdge[]> {
  const listed: ListedEdge[] = [];
  let at = cursor;
  for (let guard = 0; guard < 5000; guard++) {
    const base: EventConnectionArgs = { orderBy: { direction: order } };
    const page = await loadEventConnection(mode === 'forward' ? { ...base, first: pageSize, after: at } : { ...base, last: pageSize, before: at }, deps);
    const edges = page.edges.map((edge) => ({ key: keyOf(edge.node).join('|'), cursor: edge.cursor() }));
    if (mode === 'forward') listed.push(...edges);
    else listed.unshift(...edges);
    const more = mode === 'forward' ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage;
    if (!more) return listed;
    at = mode === 'forward' ? page.pageInfo.endCursor : page.pageInfo.startCursor;
  }
  throw new Error('traversal did not end');
}

describe('turning a traversal around at any edge (property-based)', () => {
  it('retraces exactly the events before (or after) any edge, in both orders, within and beyond the scan budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(sourceSpec, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<Direction>('ASC', 'DESC'),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 6 }),
        fc.array(turn, { minLength: 1, maxLength: 3 }),
        async (specs, order, pageSize, scanBudget, turns) => {
          // A larger tie group cannot be listed (it fails with TIE_GROUP_TOO_LARGE; see tie-group.test.ts).
          fc.pre(specs.every((spec) => largestTie(times(spec)) <= MAX_TIE));
          const { events, deps } = setup(specs, scanBudget);
          const truth = events
            .sort((a, b) => compareKeys(keyOf(a), keyOf(b), order))
            .map((event) => keyOf(event).join('|'));

          const forward = await traverse(deps, order, 'forward', pageSize, null);
          expect(forward.map((edge) => edge.key)).toEqual(truth);
          for (const { at, pageSize: turnSize, again } of turns) {
            if (forward.length === 0) break;
            const i = Math.floor(at * forward.length);
            const backward = await traverse(deps, order, 'backward', turnSize, forward[i]!.cursor);
            expect(backward.map((edge) => edge.key)).toEqual(truth.slice(0, i));
            if (backward.length === 0) continue;
            // And forward again from an edge of the backward list: everything after that edge.
            const j = Math.floor(again * backward.length);
            const onwards = await traverse(deps, order, 'forward', turnSize, backward[j]!.cursor);
            expect(onwards.map((edge) => edge.key)).toEqual(truth.slice(j + 1));
          }
        },
      ),
      { numRuns: 120 },
    );
  }, 300_000);

  it('lists nothing before the start: a cursor that stands before the first event turns around to an empty page', async () => {
    // One source that cannot filter by time and a budget of one request: the first page spends
    // it finding nothing listable, and its end cursor stands before every event.
    const { deps } = setup([{ count: 300, spread: 1, batch: 10, windows: false, seed: 3 }], 1);
    const first = await loadEventConnection({ first: 5, filter: { to: new Date(1_700_000_000_000 + 50) } }, deps);
    expect(first.edges).toHaveLength(0);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const back = await loadEventConnection({ last: 5, before: first.pageInfo.endCursor, filter: { to: new Date(1_700_000_000_000 + 50) } }, deps);
    expect(back.edges).toHaveLength(0);
    expect(back.pageInfo.hasPreviousPage).toBe(false);
    expect(back.sourceStatuses.map((status) => status.upstreamRequests)).toEqual([0]);
  });
});
