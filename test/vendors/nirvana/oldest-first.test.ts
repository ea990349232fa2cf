import { compareKeys, keyOf } from '../../../src/connection/order';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { nirvanaModule } from '../../../src/vendors/nirvana';
import { startNirvanaSimulator } from '../../../src/vendors/nirvana/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { startTestGateway } from '../../helpers/gateway';

const SIZE = 1_000;

describe('Nirvana oldest first', () => {
  const simulators: RunningSimulator[] = [];
  afterAll(async () => {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  });
  const start = async (legacyApi: boolean) => {
    const simulator = await startNirvanaSimulator({ size: SIZE, seed: 7, endMs: Date.now() - 60_000, legacyApi });
    simulators.push(simulator);
    return simulator;
  };
  const oldestFirst = (simulator: RunningSimulator) =>
    simulator.expectedEvents('nirvana-test').sort((a, b) => compareKeys(keyOf(a), keyOf(b), 'ASC')).map(keyOf);

  it('uses sort=created_at:asc where the upstream honours it: one request per page, no walk', async () => {
    const simulator = await start(false);
    const dataSource = dataSourceFor(nirvanaModule, simulator);
    expect(dataSource.capabilities.bothOrders).toBe(false);
    const { events, requests } = await readAll(dataSource, 'ASC', NO_FILTER, 100);
    expect(events.map(keyOf).sort((a, b) => compareKeys(a, b, 'ASC'))).toEqual(oldestFirst(simulator));
    expect(requests).toBe(SIZE / 100);
    expect(dataSource.capabilities.bothOrders).toBe(true);
    await dataSource.close();
  });

  it('walks to the oldest page on the legacy API, which ignores sort, and lists the same events', async () => {
    const simulator = await start(true);
    const dataSource = dataSourceFor(nirvanaModule, simulator);
    const { events, requests } = await readAll(dataSource, 'ASC', NO_FILTER, 100);
    expect(events.map(keyOf).sort((a, b) => compareKeys(a, b, 'ASC'))).toEqual(oldestFirst(simulator));
    // The probe's newest page is the walk's first step: a walk of SIZE / 100 pages, then the way back.
    expect(requests).toBeGreaterThanOrEqual(2 * (SIZE / 100) - 1);
    expect(requests).toBeLessThanOrEqual(2 * (SIZE / 100) + 1);
    expect(dataSource.capabilities.bothOrders).toBe(false);
    await dataSource.close();
  });

  it('answers a first oldest-first page through the gateway at once, from a log of 20,000', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 20_000 }]);
    try {
      const response = await setup.query<{ auditEvents: { edges: Array<{ node: { sourceEventId: string } }>; sourceStatuses: Array<{ upstreamRequests: number }> } }>(
        '{ auditEvents(first: 50, orderBy: { direction: ASC }) { edges { node { sourceEventId } } sourceStatuses { upstreamRequests } } }',
      );
      expect(response.errors).toBeUndefined();
      const expected = setup.simulators.get('nirvana-main')!.expectedEvents('nirvana-main').sort((a, b) => compareKeys(keyOf(a), keyOf(b), 'ASC'));
      expect(response.data!.auditEvents.edges.map((edge) => edge.node.sourceEventId)).toEqual(expected.slice(0, 50).map((event) => event.sourceEventId));
      expect(response.data!.auditEvents.sourceStatuses[0]!.upstreamRequests).toBe(1);
    } finally {
      await setup.close();
    }
  });
});
