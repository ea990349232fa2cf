import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const END = Date.UTC(2026, 0, 15);
const signal = () => AbortSignal.timeout(10_000);

async function start(tamper: { index: number; kind: 'modify' | 'delete' }[] = []) {
  const simulator = await startComplianceAgentSimulator({ size: 600, seed: 21, endMs: END, tamper });
  return { simulator, source: dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource };
}

describe('integrity verification', () => {
  const running: { simulator: RunningComplianceAgentSimulator; source: ComplianceAgentDataSource }[] = [];
  const open = async (tamper: Parameters<typeof start>[0] = []) => {
    const pair = await start(tamper);
    running.push(pair);
    return pair;
  };

  afterAll(async () => {
    for (const { simulator, source } of running) {
      await source.close();
      await simulator.stop();
    }
  });

  it('agrees with the upstream on a clean chain, down to the verification hash', async () => {
    const { source } = await open();
    const upstream = await source.verifyIntegrity({}, signal());
    expect(upstream).toEqual(expect.objectContaining({ verified: true, chainValid: true, logsChecked: 600, hashMismatches: 0, gapsDetected: 0 }));
    const local = await source.verifyWindow({}, signal());
    expect(local.verification).toMatchObject({ valid: true, checked: 600, firstBadIndex: null });
    expect(local.verification.verificationHash).toBe(upstream.verificationHash);
  });

  it('verifies a window that starts mid-chain', async () => {
    const { simulator, source } = await open();
    const fromMs = simulator.dataset.timeOf(200);
    const toMs = simulator.dataset.timeOf(400);
    const upstream = await source.verifyIntegrity({ fromMs, toMs }, signal());
    const local = await source.verifyWindow({ fromMs, toMs }, signal());
    expect(upstream.verified).toBe(true);
    expect(local.verification.valid).toBe(true);
    expect(local.verification.checked).toBe(upstream.logsChecked);
    expect(local.verification.verificationHash).toBe(upstream.verificationHash);
  });

  it('finds a changed entry: the upstream counts a mismatch, the local check names it', async () => {
    const { simulator, source } = await open([{ index: 250, kind: 'modify' }]);
    const upstream = await source.verifyIntegrity({}, signal());
    expect(upstream).toEqual(expect.objectContaining({ verified: false, chainValid: true, hashMismatches: 1, gapsDetected: 0 }));
    const local = await source.verifyWindow({}, signal());
    expect(local.verification).toMatchObject({ valid: false, firstBadIndex: 250, hashMismatches: 1 });
    const events = (await readAll(source, 'ASC', NO_FILTER, 100)).events.sort((a, b) => a.occurredAtMs - b.occurredAtMs || 0);
    const tamperedId = simulator.data.entry(250)!.id;
    expect(events.find((event) => event.sourceEventId === tamperedId)?.raw['details']).toMatchObject({ tampered: true });
  });

  it('finds a deleted entry as a gap at its position', async () => {
    const { source } = await open([{ index: 100, kind: 'delete' }]);
    const upstream = await source.verifyIntegrity({}, signal());
    expect(upstream).toEqual(expect.objectContaining({ verified: false, chainValid: false, gapsDetected: 1, hashMismatches: 0, logsChecked: 599 }));
    const local = await source.verifyWindow({}, signal());
    expect(local.verification).toMatchObject({ valid: false, firstBadIndex: 100, gapsDetected: 1 });
    expect(local.verification.problems[0]).toEqual({ index: 100, kind: 'missing_record' });
  });

  it('checks one repository against the organisation-wide chain', async () => {
    const { simulator, source } = await open([{ index: 300, kind: 'modify' }]);
    const repository = simulator.data.attributes(300).repository.id;
    const other = ['repo_101', 'repo_102', 'repo_103', 'repo_104'].find((id) => id !== repository)!;
    const own = await source.verifyIntegrity({ repositoryId: repository }, signal());
    const elsewhere = await source.verifyIntegrity({ repositoryId: other }, signal());
    expect(own.hashMismatches).toBe(1);
    expect(elsewhere.verified).toBe(true);
    let count = 0;
    for (let i = 0; i < 600; i++) if (simulator.data.attributes(i).repository.id === other) count += 1;
    expect(elsewhere.logsChecked).toBe(count);
  });

  it('verifies events handed out by the datasource, oldest first', async () => {
    const { source } = await open();
    const { events } = await readAll(source, 'DESC', NO_FILTER, 50);
    // Newest first from the API: reverse to chain order (ties keep the API's order, reversed).
    const result = source.verifyEntries([...events].reverse(), { previousHash: null });
    expect(result.valid).toBe(true);
    const swapped = [...events].reverse();
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    expect(source.verifyEntries(swapped).firstBadIndex).toBe(10);
  });
});
