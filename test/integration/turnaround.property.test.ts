import fc from 'fast-check';
import { compareKeys, keyOf } from '../../src/connection/order';
import type { Direction } from '../../src/sources/data-source';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $orderBy: AuditEventOrder) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    edges { cursor node { sourceEventId occurredAt source { sourceId } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface Page {
  auditEvents: {
    edges: Array<{ cursor: string; node: { sourceEventId: string; occurredAt: string; source: { sourceId: string } } }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
}

/** One listed edge: `source/event` and the edge's own cursor. */
interface ListedEdge {
  id: string;
  cursor: string;
}

const modules = Object.values(vendorModules).filter((module) => module !== undefined);

interface Scenario {
  sizes: number[];
  seed: number;
  order: Direction;
  pageSize: number;
  /** 20 is the default; 3 makes seeks spend the budget and answer empty pages that resume. */
  scanBudget: number;
  /** Nirvana as the legacy API, which can neither sort oldest first nor filter by time. */
  nirvanaLegacyApi: boolean;
  turns: Array<{ at: number; pageSize: number; again: number }>;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  // At least 5,000 events over the five sources.
  sizes: fc.array(fc.integer({ min: 1000, max: 1600 }), { minLength: modules.length, maxLength: modules.length }),
  seed: fc.integer({ min: 1, max: 10_000 }),
  order: fc.constantFrom<Direction>('ASC', 'DESC'),
  pageSize: fc.integer({ min: 30, max: 100 }),
  scanBudget: fc.constantFrom(20, 3),
  nirvanaLegacyApi: fc.boolean(),
  turns: fc.array(
    fc.record({
      at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      pageSize: fc.integer({ min: 20, max: 100 }),
      again: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

/** Pages from `cursor` to the end in `mode`, keeping each edge's cursor; pages may stop short and resume. */
async function traverse(setup: TestGateway, order: Direction, mode: 'forward' | 'backward', pageSize: number, cursor: string | null): Promise<ListedEdge[]> {
  const listed: ListedEdge[] = [];
  let at = cursor;
  for (let guard = 0; guard < 2000; guard++) {
    const variables = mode === 'forward' ? { first: pageSize, after: at, orderBy: { direction: order } } : { last: pageSize, before: at, orderBy: { direction: order } };
    const response = await setup.query<Page>(PAGE, variables);
    expect(response.errors).toBeUndefined();
    const connection = response.data!.auditEvents;
    const edges = connection.edges.map((edge) => ({ id: `${edge.node.source.sourceId}/${edge.node.sourceEventId}`, cursor: edge.cursor }));
    if (mode === 'forward') listed.push(...edges);
    else listed.unshift(...edges);
    const more = mode === 'forward' ? connection.pageInfo.hasNextPage : connection.pageInfo.hasPreviousPage;
    if (!more) return listed;
    at = mode === 'forward' ? connection.pageInfo.endCursor : connection.pageInfo.startCursor;
  }
  throw new Error('traversal did not end');
}

async function run(s: Scenario): Promise<void> {
  const setup = await startTestGateway(
    modules.map((module, index) => ({
      id: `${module.vendor}-t`,
      module,
      size: s.sizes[index]!,
      seed: s.seed + index,
      ...(module.vendor === 'nirvana' && s.nirvanaLegacyApi ? { simulatorOptions: { legacyApi: true } } : {}),
    })),
    { scanBudgetRequests: s.scanBudget },
  );
  try {
    const truth = [...setup.simulators.entries()]
      .flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId))
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b), s.order))
      .map((event) => `${event.sourceId}/${event.sourceEventId}`);

    const forward = await traverse(setup, s.order, 'forward', s.pageSize, null);
    expect(forward.map((edge) => edge.id)).toEqual(truth);
    for (const turn of s.turns) {
      // Any edge of any page, not only a page's end cursor.
      const i = Math.floor(turn.at * forward.length);
      const backward = await traverse(setup, s.order, 'backward', turn.pageSize, forward[i]!.cursor);
      expect(backward.map((edge) => edge.id)).toEqual(truth.slice(0, i));
      if (backward.length === 0) continue;
      const j = Math.floor(turn.again * backward.length);
      const onwards = await traverse(setup, s.order, 'forward', turn.pageSize, backward[j]!.cursor);
      expect(onwards.map((edge) => edge.id)).toEqual(truth.slice(j + 1));
    }
  } finally {
    await setup.close();
  }
}

describe('turning a merged traversal of every vendor around (property-based, over HTTP)', () => {
  it('retraces exactly the events before any edge and continues exactly after it, at any depth of 5,000+ events', async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { numRuns: 5, endOnFailure: true });
  }, 900_000);
});

describe('turning a single source around deep in its log', () => {
  // The case that once failed: one cursor-paged source, turned around beyond 2,000 events, where
  // reaching the position again may cost more than one page's request budget.
  for (const legacyApi of [false, true]) {
    for (const order of ['DESC', 'ASC'] as const) {
      it(`retraces 3,500 Nirvana events ${order === 'DESC' ? 'newest' : 'oldest'} first${legacyApi ? ' on an API that can neither sort nor filter by time' : ''}`, async () => {
        const nirvana = modules.find((module) => module.vendor === 'nirvana')!;
        const setup = await startTestGateway([{ id: 'nirvana-deep', module: nirvana, size: 5000, seed: 77, ...(legacyApi ? { simulatorOptions: { legacyApi: true } } : {}) }]);
        try {
          const truth = setup.simulators
            .get('nirvana-deep')!
            .expectedEvents('nirvana-deep')
            .sort((a, b) => compareKeys(keyOf(a), keyOf(b), order))
            .map((event) => `${event.sourceId}/${event.sourceEventId}`);
          const forward: ListedEdge[] = [];
          let after: string | null = null;
          // Pages that spend their budget finding where the log starts are empty: page on to 3,500.
          for (let page = 0; forward.length < 3500 && page < 100; page++) {
            const response: { data?: Page | null } = await setup.query<Page>(PAGE, { first: 50, after, orderBy: { direction: order } });
            const connection = response.data!.auditEvents;
            forward.push(...connection.edges.map((edge) => ({ id: `${edge.node.source.sourceId}/${edge.node.sourceEventId}`, cursor: edge.cursor })));
            after = connection.pageInfo.endCursor;
          }
          expect(forward.map((edge) => edge.id)).toEqual(truth.slice(0, 3500));
          const backward = await traverse(setup, order, 'backward', 50, forward[3499]!.cursor);
          expect(backward.map((edge) => edge.id)).toEqual(truth.slice(0, 3499));
        } finally {
          await setup.close();
        }
      });
    }
  }
});
