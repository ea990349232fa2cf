import { compareKeys, keyOf } from '../../../src/connection/order';
import type { Direction } from '../../../src/sources/data-source';
import { nirvanaModule } from '../../../src/vendors/nirvana';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../../helpers/gateway';

const SIZE = 5_000;
const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $orderBy: AuditEventOrder) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    edges { node { sourceEventId } }
    pageInfo { endCursor }
    sourceStatuses { upstreamRequests }
  }
}`;

interface Page {
  auditEvents: { edges: Array<{ node: { sourceEventId: string } }>; pageInfo: { endCursor: string | null }; sourceStatuses: Array<{ upstreamRequests: number }> };
}

describe('Nirvana turning a traversal around deep in its log, through the gateway', () => {
  let setup: TestGateway;
  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: SIZE }]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  for (const order of ['DESC', 'ASC'] as const) {
    it(`reads the events before a cursor 500 events into a ${order} traversal in one upstream request (the window, pushed down)`, async () => {
      const truth = setup.simulators
        .get('nirvana-main')!
        .expectedEvents('nirvana-main')
        .sort((a, b) => compareKeys(keyOf(a), keyOf(b), order as Direction))
        .map((event) => event.sourceEventId);
      let after: string | null = null;
      for (let page = 0; page < 5; page++) {
        const response: GraphQLResponse<Page> = await setup.query<Page>(PAGE, { first: 100, after, orderBy: { direction: order } });
        expect(response.errors).toBeUndefined();
        after = response.data!.auditEvents.pageInfo.endCursor;
      }
      // The 20 events before the 500th, read the other way from there: without the window upstream, this started at the far end
      // of the log (4,500 events, 45 requests: more than a page's budget of 20).
      const turned = await setup.query<Page>(PAGE, { last: 20, before: after, orderBy: { direction: order } });
      expect(turned.errors).toBeUndefined();
      expect(turned.data!.auditEvents.edges.map((edge) => edge.node.sourceEventId)).toEqual(truth.slice(479, 499));
      expect(turned.data!.auditEvents.sourceStatuses[0]!.upstreamRequests).toBe(1);
    });
  }
});
