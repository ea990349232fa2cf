import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('ComplianceAgent findEvent', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 500, seed: 17, endMs: Date.UTC(2026, 0, 15) });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('finds an event by its id alone, in one GET /logs/{id}', async () => {
    const wanted = simulator.expectedEvents(source.sourceId)[123]!;
    simulator.takeRequests();
    const found = await source.findEvent(wanted.sourceEventId, AbortSignal.timeout(5_000));
    expect(found).toEqual(wanted);
    const requests = simulator.takeRequests();
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([`GET /api/v1/audit/logs/${wanted.sourceEventId}`]);
    // No time is needed: the lookup sends no window.
    expect([...requests[0]!.query.keys()]).toEqual([]);
  });

  it('answers null for an id the vendor does not know', async () => {
    expect(await source.findEvent('log_does_not_exist', AbortSignal.timeout(5_000))).toBeNull();
    expect(await source.findEvent('../retention', AbortSignal.timeout(5_000))).toBeNull();
  });
});
