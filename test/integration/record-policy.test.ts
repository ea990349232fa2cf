import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

interface Page {
  auditEvents: {
    nodes: Array<{ sourceEventId: string }>;
    sourceStatuses: Array<{ status: string; unusableRecords: number }>;
  };
}

describe('a record the upstream sent without a usable time or identity', () => {
  let setup: TestGateway;

  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('leaves the page served: the other events are listed, and the status and a warning say how many were left out', async () => {
    const simulator = setup.simulators.get('nirvana-main')!;
    const [newest, next] = simulator.expectedEvents('nirvana-main').reverse();
    const timeless = { ...newest!.raw, id: 'entry-without-time', created_at: null };
    const idless = { ...next!.raw, id: null };
    simulator.control.inject({ kind: 'status', status: 200, json: { items: [newest!.raw, timeless, idless, next!.raw], pagination: { next_cursor: null, previous_cursor: null, total_count: 4 } } });
    const response = await setup.query<Page>(`{ auditEvents(first: 10) { nodes { sourceEventId } sourceStatuses { status unusableRecords } } }`);
    const { extensions } = response as typeof response & { extensions?: { warnings?: Array<Record<string, unknown>> } };
    expect(response.errors).toBeUndefined();
    expect(response.data!.auditEvents.nodes.map((node) => node.sourceEventId)).toEqual([newest!.sourceEventId, next!.sourceEventId]);
    expect(response.data!.auditEvents.sourceStatuses).toEqual([{ status: 'EXHAUSTED', unusableRecords: 2 }]);
    expect(extensions?.warnings).toEqual([expect.objectContaining({ code: 'UNUSABLE_RECORDS', source: 'nirvana-main', count: 2, path: ['auditEvents'] })]);
  });
});
