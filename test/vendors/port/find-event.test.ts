import type { AuditEventModel } from '../../../src/models/audit-event';
import { portModule } from '../../../src/vendors/port';
import { PortDataSource } from '../../../src/vendors/port/datasource';
import { startPortSimulator, type RunningPortSimulator } from '../../../src/vendors/port/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('Port findEvent', () => {
  let simulator: RunningPortSimulator;
  let dataSource: PortDataSource;
  let all: AuditEventModel[];

  beforeAll(async () => {
    simulator = await startPortSimulator({ size: 800, seed: 19, endMs: Date.UTC(2026, 5, 1) });
    dataSource = dataSourceFor(portModule, simulator) as PortDataSource;
    all = simulator.expectedEvents(dataSource.sourceId);
  });

  afterAll(async () => {
    await dataSource?.close();
    await simulator?.stop();
  });

  it('finds an event by its id alone, with ?identifier= and no window', async () => {
    const wanted = all[321]!;
    simulator.takeRequests();
    expect(await dataSource.findEvent(wanted.sourceEventId, AbortSignal.timeout(5_000))).toEqual(wanted);
    const requests = simulator.takeRequests();
    expect(requests).toHaveLength(1);
    expect(Object.fromEntries(requests[0]!.query)).toEqual({ identifier: wanted.sourceEventId });
  });

  it('answers null for an id Port does not know', async () => {
    expect(await dataSource.findEvent(`${all[0]!.sourceEventId}x`, AbortSignal.timeout(5_000))).toBeNull();
    expect(await dataSource.findEvent('no-such-log', AbortSignal.timeout(5_000))).toBeNull();
  });
});
