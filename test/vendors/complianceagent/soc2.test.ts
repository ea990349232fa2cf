import { ErrorCode, UpstreamError } from '../../../src/errors';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('SOC 2 evidence', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;
  const signal = () => AbortSignal.timeout(5000);

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 3000, seed: 5, endMs: Date.UTC(2026, 0, 15) });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('gives monthly reviews with artifacts and an access-log extract counting the period', async () => {
    const evidence = await source.getSoc2Evidence({ criteria: 'CC6.1', auditPeriodStart: '2026-01-01', auditPeriodEnd: '2026-01-14' }, signal());
    expect(evidence.criteria).toBe('CC6.1');
    const [review, extract] = evidence.items;
    expect(review).toEqual(expect.objectContaining({ type: 'access_review', date: '2026-01-14', dateRange: null, artifacts: [expect.objectContaining({ url: expect.stringMatching(/^\/evidence\/download\//) })] }));
    const expected = simulator
      .expectedEvents('x')
      .filter((event) => event.action.startsWith('access.') && event.occurredAtMs >= Date.UTC(2026, 0, 1) && event.occurredAtMs < Date.UTC(2026, 0, 15)).length;
    expect(extract).toEqual(expect.objectContaining({ dateRange: { from: '2026-01-01', to: '2026-01-14' }, recordCount: expected, artifacts: [] }));
    expect(expected).toBeGreaterThan(0);
  });

  it('covers every criterion when none is named', async () => {
    const evidence = await source.getSoc2Evidence({}, signal());
    expect(evidence.criteria).toBeNull();
    expect(new Set(evidence.items.map((item) => item.id.split('_')[1]))).toEqual(new Set(['cc61', 'cc62', 'cc63', 'cc71', 'cc72', 'cc74', 'cc81']));
  });

  it('refuses an unknown criterion', async () => {
    const error = await source.getSoc2Evidence({ criteria: 'CC99.9' }, signal()).catch((e: unknown) => e);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamBadRequest);
  });
});
