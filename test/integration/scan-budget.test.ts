import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type GraphQLResponse } from '../helpers/gateway';

interface Page {
  auditEvents: {
    edges: Array<{ node: { sourceEventId: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    sourceStatuses: Array<{ upstreamRequests: number }>;
  };
}

describe('a filter the upstream cannot apply, under a scan budget', () => {
  it('returns what it found with hasNextPage and a cursor that resumes the scan, never a silent truncation', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 2000 }], { scanBudgetRequests: 2 });
    try {
      const truth = setup.simulators.get('nirvana-main')!.expectedEvents('nirvana-main');
      // The two rarest actions: the gateway must scan most of the log to find each one, and the
      // upstream takes only one action, so it cannot narrow the scan.
      const counts = new Map<string, number>();
      for (const event of truth) counts.set(event.action, (counts.get(event.action) ?? 0) + 1);
      const rare = [...counts.entries()].sort((a, b) => a[1] - b[1]).slice(0, 2).map(([action]) => action);
      const expected = truth.filter((event) => rare.includes(event.action)).map((event) => event.sourceEventId).sort();

      const found: string[] = [];
      let after: string | null = null;
      let shortPages = 0;
      for (let guard = 0; guard < 200; guard++) {
        const response: GraphQLResponse<Page> = await setup.query<Page>(
          `query ($after: String, $filter: AuditEventFilter) { auditEvents(first: 100, after: $after, filter: $filter) { edges { node { sourceEventId } } pageInfo { hasNextPage endCursor } sourceStatuses { upstreamRequests } } }`,
          { after, filter: { actions: rare } },
        );
        expect(response.errors).toBeUndefined();
        const connection = response.data!.auditEvents;
        expect(connection.sourceStatuses[0]!.upstreamRequests).toBeLessThanOrEqual(2);
        found.push(...connection.edges.map((edge) => edge.node.sourceEventId));
        if (!connection.pageInfo.hasNextPage) break;
        if (connection.edges.length < 100) shortPages += 1;
        expect(connection.pageInfo.endCursor).not.toBeNull();
        after = connection.pageInfo.endCursor;
      }
      expect(shortPages).toBeGreaterThan(0);
      expect([...found].sort()).toEqual(expected);
      expect(new Set(found).size).toBe(found.length);
    } finally {
      await setup.close();
    }
  });
});

describe('a scan out of time', () => {
  it('ends the page short with a cursor that resumes the scan once half the request deadline has passed, instead of failing at the deadline', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10_000 }], { requestTimeoutMs: 6_000, scanBudgetRequests: 100 });
    try {
      const simulator = setup.simulators.get('nirvana-main')!;
      const truth = simulator.expectedEvents('nirvana-main');
      const counts = new Map<string, number>();
      for (const event of truth) counts.set(event.action, (counts.get(event.action) ?? 0) + 1);
      const rare = [...counts.entries()].sort((a, b) => a[1] - b[1]).slice(0, 2).map(([action]) => action);
      // Each upstream page takes a second: reading the whole log for the two rarest actions would
      // take about eleven, past the 6 s deadline. Half of it gone, the page stops reading on.
      simulator.control.knobs.latencyMs = 1_000;
      const response = await setup.query<Page>(
        `query ($filter: AuditEventFilter) { auditEvents(first: 100, filter: $filter) { edges { node { sourceEventId } } pageInfo { hasNextPage endCursor } sourceStatuses { upstreamRequests } } }`,
        { filter: { actions: rare } },
      );
      expect(response.errors).toBeUndefined();
      const connection = response.data!.auditEvents;
      expect(connection.pageInfo.hasNextPage).toBe(true);
      expect(connection.pageInfo.endCursor).not.toBeNull();
      expect(connection.edges.length).toBeLessThan(100);
      expect(connection.sourceStatuses[0]!.upstreamRequests).toBeGreaterThanOrEqual(1);
    } finally {
      await setup.close();
    }
  });
});
