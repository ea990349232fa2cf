import { compareKeys, keyOf } from '../../src/connection/order';
import type { AuditEventModel } from '../../src/models/audit-event';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway';

const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter, $orderBy: AuditEventOrder) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    edges { node { id sourceEventId occurredAt source { sourceId } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    sourceStatuses { source { sourceId } status upstreamRequests }
  }
}`;

interface Page {
  auditEvents: {
    edges: Array<{ node: { id: string; sourceEventId: string; occurredAt: string; source: { sourceId: string } } }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    sourceStatuses: Array<{ source: { sourceId: string }; status: string; upstreamRequests: number }>;
  };
}

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const identity = (sourceId: string, sourceEventId: string) => `${sourceId}/${sourceEventId}`;

describe(`one connection over every vendor (${modules.map((m) => m.vendor).join(', ')})`, () => {
  const SIZE = 300;
  let setup: TestGateway;
  let truth: AuditEventModel[];

  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: SIZE, seed: 11 + index })));
    truth = [...setup.simulators.entries()].flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId));
  });
  afterAll(async () => {
    await setup?.close();
  });

  async function traverse(variables: Record<string, unknown>, pageSize: number, backward = false): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10_000; guard++) {
      const response: GraphQLResponse<Page> = await setup.query<Page>(PAGE, backward ? { ...variables, last: pageSize, before: cursor } : { ...variables, first: pageSize, after: cursor });
      expect(response.errors).toBeUndefined();
      const connection: Page['auditEvents'] = response.data!.auditEvents;
      const ids = connection.edges.map((edge) => identity(edge.node.source.sourceId, edge.node.sourceEventId));
      if (backward) seen.unshift(...ids);
      else seen.push(...ids);
      if (!(backward ? connection.pageInfo.hasPreviousPage : connection.pageInfo.hasNextPage)) return seen;
      cursor = backward ? connection.pageInfo.startCursor : connection.pageInfo.endCursor;
    }
    throw new Error('traversal did not end');
  }

  const ordered = (direction: 'ASC' | 'DESC', events: AuditEventModel[] = truth) =>
    [...events].sort((a, b) => compareKeys(keyOf(a), keyOf(b), direction)).map((event) => identity(event.sourceId, event.sourceEventId));

  it('merges every source newest first, each event exactly once, 7 a page', async () => {
    expect(await traverse({}, 7)).toEqual(ordered('DESC'));
  });

  it('merges oldest first, 50 a page', async () => {
    expect(await traverse({ orderBy: { direction: 'ASC' } }, 50)).toEqual(ordered('ASC'));
  });

  it('pages backwards through the merged order', async () => {
    expect(await traverse({}, 33, true)).toEqual(ordered('DESC'));
  });

  for (const module of modules) {
    it(`serves ${module.vendor} alone through filter.sources, and skips the others`, async () => {
      const sourceId = `${module.vendor}-main`;
      const response = await setup.query<Page>(PAGE, { first: 5, filter: { sources: [sourceId] } });
      expect(response.errors).toBeUndefined();
      expect(response.data!.auditEvents.edges.every((edge) => edge.node.source.sourceId === sourceId)).toBe(true);
      expect(response.data!.auditEvents.sourceStatuses.map((status) => status.source.sourceId)).toEqual([sourceId]);
      expect(await traverse({ filter: { sources: [sourceId] } }, 100)).toEqual(ordered('DESC', truth.filter((event) => event.sourceId === sourceId)));
    });
  }

  it('ignores events that arrive while a traversal pages (snapshot), and a new traversal sees them', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.knobs.appendPerRequest = 2;
    try {
      expect(await traverse({}, 25)).toEqual(ordered('DESC'));
    } finally {
      for (const simulator of setup.simulators.values()) simulator.control.knobs.appendPerRequest = 0;
    }
    const now = [...setup.simulators.entries()].flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId));
    expect(now.length).toBeGreaterThan(truth.length);
    // A whole traversal, not one page: a page may end short (a scan budget) and say so.
    expect(await traverse({}, 100)).toEqual(ordered('DESC', now));
    truth = now;
  });

  it('keeps answering with the other sources when one fails, and names it', async () => {
    if (modules.length < 2) return;
    const failing = `${modules[0]!.vendor}-main`;
    setup.simulators.get(failing)!.control.inject({ kind: 'status', status: 401, json: { message: 'nope' } }, 5);
    const response = await setup.query<Page>(PAGE, { first: 10 });
    expect(response.status).toBe(200);
    expect(response.data!.auditEvents.edges.length).toBeGreaterThan(0);
    expect(response.errors?.[0]?.extensions).toMatchObject({ source: failing });
    const status = response.data!.auditEvents.sourceStatuses.find((s) => s.source.sourceId === failing);
    expect(status?.status).toBe('FAILED');
    expect(response.data!.auditEvents.pageInfo.hasNextPage).toBe(true);
  });
});
