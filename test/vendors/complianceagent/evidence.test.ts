import { windowQuery } from '../../../src/sources/data-source';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, UpstreamError } from '../../../src/errors';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('evidence export', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;
  const signal = () => AbortSignal.timeout(5000);

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 2000, seed: 3, endMs: Date.UTC(2026, 0, 15), exportDelayMs: 200 });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('starts a job that is processing, then completed with a download URL', async () => {
    const started = await source.startEvidenceExport(
      { framework: 'soc2', auditPeriod: { from: '2025-12-01', to: '2026-01-15' }, include: ['ACCESS_LOGS', 'FIX_RECORDS'], repositoryIds: ['repo_101'] },
      signal(),
    );
    expect(started).toEqual(expect.objectContaining({ sourceId: 'complianceagent-test', status: 'PROCESSING', jobId: expect.stringMatching(/^export_/), downloadUrl: null }));
    expect(started.estimatedSizeMb).toBeGreaterThanOrEqual(1);
    expect(started.estimatedCompletionMs).toBeGreaterThan(Date.now() - 1000);

    const polled = await source.getEvidenceExport(started.jobId, signal());
    expect(polled?.status).toBe('PROCESSING');
    // Polled as a client polls: a busy host may answer the first poll after the delay late.
    let done = await source.getEvidenceExport(started.jobId, signal());
    for (let poll = 0; poll < 100 && done?.status === 'PROCESSING'; poll++) {
      await sleep(50);
      done = await source.getEvidenceExport(started.jobId, signal());
    }
    expect(done).toEqual(expect.objectContaining({ status: 'COMPLETED', downloadUrl: `https://exports.complianceagent.io/${started.jobId}.zip` }));
    expect(done!.completedAtMs! - done!.createdAtMs!).toBeGreaterThanOrEqual(200);
    expect(done!.expiresAtMs! - done!.completedAtMs!).toBe(7 * 86_400_000);
    expect(done!.filesIncluded).toBeGreaterThan(1);
  });

  it('answers null for an unknown job', async () => {
    expect(await source.getEvidenceExport('export_nope', signal())).toBeNull();
  });

  it('refuses a bad body with the allowed values listed, and never retries the POST', async () => {
    const post = (body: unknown) =>
      fetch(`${simulator.baseUrl}/api/v1/audit/evidence/export`, {
        method: 'POST',
        headers: { authorization: `Bearer ${simulator.credentials['apiKey']!}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const period = { from: '2025-01-01', to: '2025-03-31' };
    const badFormat = await post({ format: 'pdf', framework: 'soc2', audit_period: period });
    expect(badFormat.status).toBe(422);
    expect(await badFormat.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR', details: { field: 'format', allowed: ['zip'] } } });
    const badInclude = await post({ format: 'zip', framework: 'soc2', audit_period: period, include: ['everything'] });
    expect(((await badInclude.json()) as { error: { details: { allowed: string[] } } }).error.details.allowed).toContain('configuration_history');
    expect((await post({ format: 'zip', framework: 'soc2' })).status).toBe(400);
    expect((await post({ format: 'zip', framework: 'soc2', audit_period: { from: '2024-01-01', to: '2025-12-31' } })).status).toBe(422);

    simulator.control.resetStats();
    const error = await source.startEvidenceExport({ framework: 'nope', auditPeriod: period }, signal()).catch((e: unknown) => e);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamBadRequest);
    simulator.control.inject({ kind: 'status', status: 503 });
    const unavailable = await source.startEvidenceExport({ framework: 'soc2', auditPeriod: period }, signal()).catch((e: unknown) => e);
    expect((unavailable as UpstreamError).code).toBe(ErrorCode.UpstreamUnavailable);
    expect(simulator.control.stats.requests).toBe(2);
  });

  it('needs the write:audit scope', async () => {
    const readOnly = dataSourceFor(complianceAgentModule, simulator, { id: 'read-only', credentials: { apiKey: simulator.readOnlyApiKey } }) as ComplianceAgentDataSource;
    try {
      const error = await readOnly.startEvidenceExport({ framework: 'soc2', auditPeriod: { from: '2025-01-01', to: '2025-01-31' } }, signal()).catch((e: unknown) => e);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamAuthFailed);
      expect((error as UpstreamError).httpStatus).toBe(403);
      const page = await readOnly.listEvents({ direction: 'DESC', query: windowQuery(null, null), resume: null, limit: 5, signal: signal() });
      expect(page.events).toHaveLength(5);
    } finally {
      await readOnly.close();
    }
  });
});
