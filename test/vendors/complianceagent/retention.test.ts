import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('retention policy', () => {
  it('reads the policy, storage and the oldest stored entry', async () => {
    const simulator = await startComplianceAgentSimulator({ size: 400, seed: 2, endMs: Date.UTC(2026, 0, 15), tamper: [{ index: 0, kind: 'delete' }] });
    const source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
    try {
      expect(await source.getRetentionPolicy(AbortSignal.timeout(5000))).toEqual({
        sourceId: 'complianceagent-test',
        auditLogs: { retentionDays: 2555, archiveAfterDays: 365 },
        scanResults: { retentionDays: 730, archiveAfterDays: 180 },
        evidenceExports: { retentionDays: 30, archiveAfterDays: null },
        storageUsedGb: expect.any(Number),
        // Entry 0 was deleted, so the oldest stored one is entry 1.
        oldestLogMs: simulator.dataset.timeOf(1),
      });
    } finally {
      await source.close();
      await simulator.stop();
    }
  });
});
