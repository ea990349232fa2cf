import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { AuthConfig } from '../../src/auth';
import type { SimRequest } from '../../src/simulation/server';
import { complianceAgentModule } from '../../src/vendors/complianceagent';
import type { RunningComplianceAgentSimulator } from '../../src/vendors/complianceagent/simulator';
import { handleHistory, handleRetention, handleVerify } from '../../src/vendors/complianceagent/simulator-compliance';
import { handleSoc2 } from '../../src/vendors/complianceagent/simulator-evidence';
import type { RawEvidenceExportJob, RawHistory, RawRetention, RawRetentionRule, RawSoc2Evidence, RawVerifyResult } from '../../src/vendors/complianceagent/wire-types';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/*
 * Every ComplianceAgent operation through the gateway, over loopback HTTP against the real
 * simulators. Expected values come from the simulator itself (its data object, its handlers, or
 * its HTTP API read directly), never from the datasource or the gateway under test.
 */

const OPS_KEY = `ops-${randomBytes(16).toString('hex')}`;
const NIRVANA_KEY = `nv-${randomBytes(16).toString('hex')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const END = Date.UTC(2026, 9, 1);
const HOUR = 3_600_000;
const SIZE = 400;
// Long enough that a loaded test host still reads a job as processing just after starting it.
const EXPORT_DELAY_MS = 2_000;
/** One more entry than a re-walk reads at once. */
const LARGE = 10_001;

const CAPABILITY_FIELDS = ['evidenceExport', 'integrityVerification', 'complianceHistory', 'retentionPolicy', 'soc2Evidence', 'nativeSearch', 'nativeStatistics'] as const;

const PROBLEM = 'kind position sourceEventId storedHash computedHash previousHash event { id sourceEventId }';
const VERIFY = `query ($source: String!, $from: DateTime, $to: DateTime, $repositoryId: String) {
  verifyIntegrity(source: $source, from: $from, to: $to, repositoryId: $repositoryId) {
    source { sourceId } from to repositoryId intact
    vendorVerdict { verified logsChecked chainValid hashMismatches gapsDetected verificationHash verifiedAt }
    rewalk {
      valid entriesChecked hashMismatches gapsDetected unplaceableEntries verificationHash anchorHash upstreamRequests
      firstMismatch { ${PROBLEM} } firstMissingLink { ${PROBLEM} } problems { ${PROBLEM} }
    }
  }
}`;
const EXPORT_FIELDS = 'id jobId status estimatedSizeMb estimatedCompletion downloadUrl expiresAt fileSizeMb filesIncluded createdAt completedAt source { sourceId }';

interface Problem {
  kind: string;
  position: number;
  sourceEventId: string | null;
  storedHash: string | null;
  computedHash: string | null;
  previousHash: string | null;
  event: { id: string; sourceEventId: string } | null;
}
interface Verification {
  verifyIntegrity: {
    source: { sourceId: string };
    from: string | null;
    to: string | null;
    repositoryId: string | null;
    intact: boolean | null;
    vendorVerdict: { verified: boolean; logsChecked: number; chainValid: boolean; hashMismatches: number; gapsDetected: number; verificationHash: string | null; verifiedAt: string | null } | null;
    rewalk: {
      valid: boolean;
      entriesChecked: number;
      hashMismatches: number;
      gapsDetected: number;
      unplaceableEntries: number;
      verificationHash: string;
      anchorHash: string | null;
      upstreamRequests: number;
      firstMismatch: Problem | null;
      firstMissingLink: Problem | null;
      problems: Problem[];
    } | null;
  } | null;
}
interface ExportJob {
  id: string;
  jobId: string;
  status: string;
  estimatedSizeMb: number | null;
  estimatedCompletion: string | null;
  downloadUrl: string | null;
  expiresAt: string | null;
  fileSizeMb: number | null;
  filesIncluded: number | null;
  createdAt: string | null;
  completedAt: string | null;
  source: { sourceId: string };
}

/** A request as the simulator's handlers take it. */
function simRequest(method: string, path: string, query: Record<string, string> = {}, body?: unknown): SimRequest {
  return { method, path, query: new URLSearchParams(query), headers: {}, body };
}

/** The `data` of a simulator handler's `{success: true, data}` answer. */
function dataOf<T>(response: { status: number; json?: unknown }): T {
  expect(response.status).toBe(200);
  return (response.json as { data: T }).data;
}

/** `verification_hash` as the vendor documents it, from the simulator's stored hashes. */
function digestOf(hashes: readonly string[]): string {
  return `sha256:${sha256(hashes.join('\n'))}`;
}

describe('ComplianceAgent compliance and evidence through the gateway', () => {
  let setup: TestGateway;
  let clean: RunningComplianceAgentSimulator;
  let tampered: RunningComplianceAgentSimulator;
  /** The entry changed after the fact, and the entry deleted, in `ca-tampered`. */
  let modified: number;
  let deleted: number;

  const query = <T>(text: string, variables?: Record<string, unknown>, key = OPS_KEY) => setup.query<T>(text, variables, bearer(key));
  const idle = () => Promise.all([...setup.simulators.values()].map((simulator) => simulator.control.idle()));
  const upstreamCalls = () => [...setup.simulators.values()].reduce((sum, simulator) => sum + simulator.control.stats.requests, 0);

  beforeAll(async () => {
    const auth: AuthConfig = {
      mode: 'required',
      apiKeys: [
        { id: 'ops', sha256: sha256(OPS_KEY), sources: '*' },
        { id: 'nirvana-reader', sha256: sha256(NIRVANA_KEY), sources: ['nirvana-main'] },
      ],
      jwt: null,
    };
    // Entries three hours apart on average: the log spans about seven weeks, so history has weeks.
    const caOptions = { meanGapMs: 3 * HOUR, exportDelayMs: EXPORT_DELAY_MS };
    setup = await startTestGateway(
      [
        { id: 'ca-main', module: complianceAgentModule, size: SIZE, seed: 41, endMs: END, simulatorOptions: caOptions },
        { id: 'ca-tampered', module: complianceAgentModule, size: SIZE, seed: 42, endMs: END, simulatorOptions: caOptions },
        { id: 'ca-large', module: complianceAgentModule, size: LARGE, seed: 43, endMs: END },
        { id: 'nirvana-main', module: nirvanaModule, size: 60, endMs: END },
      ],
      { auth },
    );
    clean = setup.simulators.get('ca-main') as RunningComplianceAgentSimulator;
    tampered = setup.simulators.get('ca-tampered') as RunningComplianceAgentSimulator;
    // A deleted entry whose neighbours have distinct times, so a window can start right after it.
    const time = (index: number) => tampered.dataset.timeOf(index);
    deleted = 260;
    while (!(time(deleted - 1) < time(deleted + 1))) deleted += 1;
    modified = 150;
    tampered.data.tamper(modified, 'modify');
    tampered.data.tamper(deleted, 'delete');
  });
  afterAll(async () => {
    await setup?.close();
  });

  describe('Source.capabilities', () => {
    it('says ComplianceAgent offers every compliance operation and Nirvana none', async () => {
      const response = await query<{ sources: Array<{ sourceId: string; capabilities: Record<string, boolean> }> }>(
        `{ sources { sourceId capabilities { ${CAPABILITY_FIELDS.join(' ')} } } }`,
      );
      expect(response.errors).toBeUndefined();
      const bySource = new Map(response.data!.sources.map((source) => [source.sourceId, source.capabilities]));
      const all = (value: boolean) => Object.fromEntries(CAPABILITY_FIELDS.map((field) => [field, value]));
      expect(bySource.get('ca-main')).toEqual(all(true));
      expect(bySource.get('nirvana-main')).toEqual(all(false));
    });
  });

  describe('a source without a capability, or outside the caller', () => {
    const refusals: Array<[string, string, string]> = [
      ['evidenceExport', '{ evidenceExport(source: "nirvana-main", jobId: "export_1") { status } }', 'evidenceExport'],
      ['verifyIntegrity', '{ verifyIntegrity(source: "nirvana-main") { vendorVerdict { verified } rewalk { valid } } }', 'integrityVerification'],
      ['complianceHistory', '{ complianceHistory(source: "nirvana-main", metric: SCORE, interval: WEEK) { metric } }', 'complianceHistory'],
      ['retentionPolicy', '{ retentionPolicy(source: "nirvana-main") { storageUsedGb } }', 'retentionPolicy'],
      ['soc2Evidence', '{ soc2Evidence(source: "nirvana-main") { criteria } }', 'soc2Evidence'],
      [
        'startEvidenceExport',
        'mutation { startEvidenceExport(input: { source: "nirvana-main", framework: "soc2", auditPeriod: { from: "2026-08-01", to: "2026-09-30" } }) { status } }',
        'evidenceExport',
      ],
    ];

    it.each(refusals)('refuses %s on Nirvana with SOURCE_LACKS_CAPABILITY before any upstream call', async (field, text, capability) => {
      await idle();
      const before = upstreamCalls();
      const response = await query<Record<string, unknown>>(text);
      expect(response.data?.[field] ?? null).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.path).toEqual([field]);
      expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SOURCE_LACKS_CAPABILITY', source: 'nirvana-main', capability });
      expect(response.errors![0]!.message).toContain("'nirvana-main'");
      expect(upstreamCalls()).toBe(before);
    });

    it('gives the same UNKNOWN_SOURCE for a ComplianceAgent source the caller may not read as for one that does not exist, unasked', async () => {
      await idle();
      const before = upstreamCalls();
      const ask = (source: string) => query<Record<string, unknown>>('query ($source: String!) { retentionPolicy(source: $source) { storageUsedGb } }', { source }, NIRVANA_KEY);
      const foreign = await ask('ca-main');
      const missing = await ask('no-such-source');
      for (const response of [foreign, missing]) {
        expect(response.data?.['retentionPolicy'] ?? null).toBeNull();
        expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE', field: 'source' });
      }
      expect(foreign.errors?.[0]?.message.replace('ca-main', 'X')).toBe(missing.errors?.[0]?.message.replace('no-such-source', 'X'));
      // The same reason auditEvents gives for a source the caller may not read.
      const events = await query('{ auditEvents(first: 1, filter: { sources: ["ca-main"] }) { nodes { id } } }', undefined, NIRVANA_KEY);
      expect(events.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE' });
      const mutation = await query(
        'mutation { startEvidenceExport(input: { source: "ca-main", framework: "soc2", auditPeriod: { from: "2026-08-01", to: "2026-09-30" } }) { status } }',
        undefined,
        NIRVANA_KEY,
      );
      expect(mutation.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE', field: 'input.source' });
      expect(upstreamCalls()).toBe(before);
    });
  });

  describe('retentionPolicy', () => {
    it('answers the policy the simulator holds, value for value', async () => {
      const response = await query<{ retentionPolicy: unknown }>(
        '{ retentionPolicy(source: "ca-main") { source { sourceId } auditLogs { retentionDays archiveAfterDays } scanResults { retentionDays archiveAfterDays } evidenceExports { retentionDays archiveAfterDays } storageUsedGb oldestLog } }',
      );
      expect(response.errors).toBeUndefined();
      const raw = dataOf<RawRetention>(handleRetention(clean.data));
      const rule = (value: RawRetentionRule | undefined) => (value ? { retentionDays: value.retention_days ?? null, archiveAfterDays: value.archive_after_days ?? null } : null);
      expect(response.data!.retentionPolicy).toEqual({
        source: { sourceId: 'ca-main' },
        auditLogs: rule(raw.policy.audit_logs),
        scanResults: rule(raw.policy.scan_results),
        evidenceExports: rule(raw.policy.evidence_exports),
        storageUsedGb: raw.storage_used_gb,
        oldestLog: raw.oldest_log,
      });
      // The evidence rule has no archive period: null, not a made-up number.
      expect(raw.policy.evidence_exports?.archive_after_days).toBeUndefined();
      expect(raw.oldest_log).toBe(new Date(clean.dataset.timeOf(0)).toISOString());
    });
  });

  describe('complianceHistory', () => {
    const HISTORY = `query ($source: String!, $metric: ComplianceMetric!, $interval: HistoryInterval!, $repositoryId: String, $framework: String, $from: DateTime, $to: DateTime) {
      complianceHistory(source: $source, metric: $metric, interval: $interval, repositoryId: $repositoryId, framework: $framework, from: $from, to: $to) {
        source { sourceId } metric interval dataPoints { periodStart periodEnd value change } summary { startValue endValue totalChange trend }
      }
    }`;
    const expected = (raw: RawHistory) => ({
      source: { sourceId: 'ca-main' },
      metric: raw.metric.toUpperCase(),
      interval: raw.interval.toUpperCase(),
      dataPoints: raw.data_points.map((point) => ({ periodStart: point.period_start, periodEnd: point.period_end, value: point.value, change: point.change })),
      summary: { startValue: raw.summary.start_value, endValue: raw.summary.end_value, totalChange: raw.summary.total_change, trend: raw.summary.trend.toUpperCase() },
    });

    it('answers the points and summary the simulator computes for a metric, repository, framework and window', async () => {
      const from = new Date(clean.dataset.timeOf(0)).toISOString();
      const to = new Date(clean.dataset.timeOf(SIZE - 1) + 1).toISOString();
      const response = await query<{ complianceHistory: unknown }>(HISTORY, { source: 'ca-main', metric: 'ISSUES', interval: 'WEEK', repositoryId: 'repo_101', framework: 'soc2', from, to });
      expect(response.errors).toBeUndefined();
      const raw = dataOf<RawHistory>(
        handleHistory(clean.data, simRequest('GET', '/api/v1/audit/history', { metric: 'issues', interval: 'week', repository_id: 'repo_101', framework: 'soc2', from, to })),
      );
      expect(raw.data_points.length).toBeGreaterThan(4);
      expect(raw.data_points.some((point) => point.value > 0)).toBe(true);
      expect(response.data!.complianceHistory).toEqual(expected(raw));
    });

    it("answers the vendor's default window when none is given", async () => {
      const response = await query<{ complianceHistory: unknown }>(HISTORY, { source: 'ca-main', metric: 'SCORE', interval: 'MONTH' });
      expect(response.errors).toBeUndefined();
      const raw = dataOf<RawHistory>(handleHistory(clean.data, simRequest('GET', '/api/v1/audit/history', { metric: 'score', interval: 'month' })));
      expect(response.data!.complianceHistory).toEqual(expected(raw));
      // The first point has no change: null, as the vendor sends it.
      expect(raw.data_points[0]!.change).toBeNull();
    });
  });

  describe('soc2Evidence', () => {
    const SOC2 = `query ($source: String!, $criteria: String, $start: Date, $end: Date) {
      soc2Evidence(source: $source, criteria: $criteria, auditPeriodStart: $start, auditPeriodEnd: $end) {
        source { sourceId } criteria items { id type title description date dateRange { from to } recordCount artifacts { name url } }
      }
    }`;
    const expected = (raw: RawSoc2Evidence) => ({
      source: { sourceId: 'ca-main' },
      criteria: raw.criteria,
      items: raw.evidence_items.map((item) => ({
        id: item.id,
        type: item.type,
        title: item.title,
        description: item.description ?? null,
        date: item.date ?? null,
        dateRange: item.date_range ? { from: item.date_range.from, to: item.date_range.to } : null,
        recordCount: item.record_count ?? null,
        artifacts: item.artifacts ?? [],
      })),
    });

    it('answers the evidence items the simulator holds for one criterion and audit period', async () => {
      const response = await query<{ soc2Evidence: unknown }>(SOC2, { source: 'ca-main', criteria: 'CC6.1', start: '2026-08-15', end: '2026-09-30' });
      expect(response.errors).toBeUndefined();
      const raw = dataOf<RawSoc2Evidence>(
        handleSoc2(clean.data, simRequest('GET', '/api/v1/audit/evidence/soc2', { criteria: 'CC6.1', audit_period_start: '2026-08-15', audit_period_end: '2026-09-30' })),
      );
      expect(raw.evidence_items.length).toBeGreaterThan(1);
      expect(response.data!.soc2Evidence).toEqual(expected(raw));
      // The log extract counts the simulator's access events in the period.
      let accessEvents = 0;
      for (let i = 0; i < SIZE; i++) {
        const at = clean.dataset.timeOf(i);
        if (at >= Date.UTC(2026, 7, 15) && at < Date.UTC(2026, 9, 1) && clean.data.attributes(i).eventType.startsWith('access.')) accessEvents += 1;
      }
      expect(raw.evidence_items.find((item) => item.type === 'audit_log')?.record_count).toBe(accessEvents);
    });

    it('answers every criterion, with criteria null, when none is asked for', async () => {
      const response = await query<{ soc2Evidence: { criteria: string | null } }>(SOC2, { source: 'ca-main' });
      expect(response.errors).toBeUndefined();
      const raw = dataOf<RawSoc2Evidence>(handleSoc2(clean.data, simRequest('GET', '/api/v1/audit/evidence/soc2')));
      expect(response.data!.soc2Evidence).toEqual(expected(raw));
      expect(response.data!.soc2Evidence.criteria).toBeNull();
    });
  });

  describe('evidence packages', () => {
    /** The job as the simulator holds it, read from its own API. */
    const jobAtVendor = async (jobId: string): Promise<RawEvidenceExportJob> => {
      const response = await request(`${clean.baseUrl}/api/v1/audit/evidence/export/${jobId}`, { headers: bearer(clean.credentials['apiKey']!) });
      expect(response.statusCode).toBe(200);
      return ((await response.body.json()) as { data: RawEvidenceExportJob }).data;
    };
    const asExport = (job: RawEvidenceExportJob, id: string): ExportJob => ({
      id,
      jobId: job.job_id,
      status: job.status.toUpperCase(),
      estimatedSizeMb: job.estimated_size_mb ?? null,
      estimatedCompletion: job.estimated_completion ?? null,
      downloadUrl: job.download_url ?? null,
      expiresAt: job.expires_at ?? null,
      fileSizeMb: job.file_size_mb ?? null,
      filesIncluded: job.files_included ?? null,
      createdAt: job.created_at ?? null,
      completedAt: job.completed_at ?? null,
      source: { sourceId: 'ca-main' },
    });

    it('starts a job, then answers its status by source and job id and by node(id), as the vendor holds it', async () => {
      const started = await query<{ startEvidenceExport: ExportJob }>(`mutation ($input: StartEvidenceExportInput!) { startEvidenceExport(input: $input) { ${EXPORT_FIELDS} } }`, {
        input: { source: 'ca-main', framework: 'soc2', auditPeriod: { from: '2026-08-01', to: '2026-09-30' }, include: ['ACCESS_LOGS', 'FIX_RECORDS'], repositoryIds: ['repo_101', 'repo_102'] },
      });
      expect(started.errors).toBeUndefined();
      const job = started.data!.startEvidenceExport;
      const processing = await jobAtVendor(job.jobId);
      expect(processing.status).toBe('processing');
      // The start answer carries no creation time at the vendor: null, not the gateway's clock.
      expect(job).toEqual({ ...asExport(processing, job.id), createdAt: null });
      expect(clean.takeRequests().find((logged) => logged.method === 'POST')?.path).toBe('/api/v1/audit/evidence/export');

      const polled = await query<{ evidenceExport: ExportJob }>(`query ($jobId: String!) { evidenceExport(source: "ca-main", jobId: $jobId) { ${EXPORT_FIELDS} } }`, { jobId: job.jobId });
      expect(polled.errors).toBeUndefined();
      expect(polled.data!.evidenceExport.status).toBe('PROCESSING');
      expect(polled.data!.evidenceExport).toEqual(asExport(await jobAtVendor(job.jobId), job.id));

      await sleep(EXPORT_DELAY_MS + 100);
      const refetched = await query<{ node: ExportJob & { __typename: string } }>(`query ($id: ID!) { node(id: $id) { __typename ... on EvidenceExport { ${EXPORT_FIELDS} } } }`, { id: job.id });
      expect(refetched.errors).toBeUndefined();
      const completed = await jobAtVendor(job.jobId);
      expect(completed.status).toBe('completed');
      expect(refetched.data!.node).toEqual({ __typename: 'EvidenceExport', ...asExport(completed, job.id) });
      expect(refetched.data!.node.downloadUrl).toBe(`https://exports.complianceagent.io/${job.jobId}.zip`);
    });

    it('answers null for a job the vendor does not know, and for a job id of a source the caller may not read, which it does not ask', async () => {
      const unknown = await query<{ evidenceExport: unknown }>('{ evidenceExport(source: "ca-main", jobId: "export_000000000000") { jobId } }');
      expect(unknown.errors).toBeUndefined();
      expect(unknown.data!.evidenceExport).toBeNull();

      const started = await query<{ startEvidenceExport: { id: string } }>(
        'mutation { startEvidenceExport(input: { source: "ca-main", framework: "gdpr", auditPeriod: { from: "2026-09-01", to: "2026-09-30" } }) { id } }',
      );
      const id = started.data!.startEvidenceExport.id;
      await idle();
      const before = upstreamCalls();
      const foreign = await query<{ node: unknown }>('query ($id: ID!) { node(id: $id) { id } }', { id }, NIRVANA_KEY);
      expect(foreign.errors).toBeUndefined();
      expect(foreign.data!.node).toBeNull();
      expect(upstreamCalls()).toBe(before);
    });
  });

  describe('verifyIntegrity', () => {
    it('finds a clean chain whole, by the vendor and by its own re-walk, with the digest of the stored hashes', async () => {
      const response = await query<Verification>(VERIFY, { source: 'ca-main' });
      expect(response.errors).toBeUndefined();
      const check = response.data!.verifyIntegrity!;
      const raw = dataOf<RawVerifyResult>(handleVerify(clean.data, simRequest('POST', '/api/v1/audit/verify', {}, {})));
      const hashes = Array.from({ length: SIZE }, (_, i) => clean.data.hashOf(i));
      expect(raw.verification_hash).toBe(digestOf(hashes));
      expect(check.vendorVerdict).toEqual({
        verified: raw.verified,
        logsChecked: raw.logs_checked,
        chainValid: raw.chain_valid,
        hashMismatches: raw.hash_mismatches,
        gapsDetected: raw.gaps_detected,
        verificationHash: raw.verification_hash,
        verifiedAt: expect.any(String),
      });
      expect(Math.abs(Date.parse(check.vendorVerdict!.verifiedAt!) - Date.now())).toBeLessThan(60_000);
      expect(check.rewalk).toMatchObject({
        valid: true,
        entriesChecked: SIZE,
        hashMismatches: 0,
        gapsDetected: 0,
        unplaceableEntries: 0,
        verificationHash: digestOf(hashes),
        anchorHash: null,
        firstMismatch: null,
        firstMissingLink: null,
        problems: [],
      });
      expect(check.rewalk!.upstreamRequests).toBeGreaterThanOrEqual(Math.ceil(SIZE / 100));
      expect(check).toMatchObject({ source: { sourceId: 'ca-main' }, from: null, to: null, repositoryId: null, intact: true });
    });

    it('finds a changed and a deleted entry both ways, and names each as an event that node(id) resolves', async () => {
      const response = await query<Verification>(VERIFY, { source: 'ca-tampered' });
      expect(response.errors).toBeUndefined();
      const check = response.data!.verifyIntegrity!;
      expect(check.vendorVerdict).toMatchObject({ verified: false, chainValid: false, hashMismatches: 1, gapsDetected: 1, logsChecked: SIZE - 1 });
      expect(check.intact).toBe(false);
      const rewalk = check.rewalk!;
      expect(rewalk).toMatchObject({ valid: false, entriesChecked: SIZE - 1, hashMismatches: 1, gapsDetected: 1 });

      const changedId = tampered.data.entry(modified)!.id;
      expect(rewalk.firstMismatch).toMatchObject({
        kind: 'HASH_MISMATCH',
        position: modified,
        sourceEventId: changedId,
        storedHash: tampered.data.hashOf(modified),
        previousHash: tampered.data.hashOf(modified - 1),
        event: { sourceEventId: changedId },
      });
      expect(rewalk.firstMismatch!.computedHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(rewalk.firstMismatch!.computedHash).not.toBe(rewalk.firstMismatch!.storedHash);

      // The entry after the deleted one links to it: its link is the first one missing.
      const afterGapId = tampered.data.entry(deleted + 1)!.id;
      expect(rewalk.firstMissingLink).toMatchObject({
        kind: 'MISSING_RECORD',
        position: deleted,
        sourceEventId: afterGapId,
        storedHash: tampered.data.hashOf(deleted + 1),
        previousHash: tampered.data.hashOf(deleted),
        event: { sourceEventId: afterGapId },
      });
      expect(rewalk.problems.map((problem) => [problem.kind, problem.position])).toEqual([
        ['HASH_MISMATCH', modified],
        ['MISSING_RECORD', deleted],
      ]);

      const nodes = await query<{ mismatch: { sourceEventId: string; details: Record<string, unknown> }; missing: { sourceEventId: string } }>(
        'query ($a: ID!, $b: ID!) { mismatch: node(id: $a) { ... on AuditEvent { sourceEventId details } } missing: node(id: $b) { ... on AuditEvent { sourceEventId } } }',
        { a: rewalk.firstMismatch!.event!.id, b: rewalk.firstMissingLink!.event!.id },
      );
      expect(nodes.errors).toBeUndefined();
      expect(nodes.data!.mismatch).toEqual({ sourceEventId: changedId, details: expect.objectContaining({ tampered: true }) });
      expect(nodes.data!.missing).toEqual({ sourceEventId: afterGapId });
    });

    it('checks the first entry of a window against the entry just before it, so a deletion at its start is found', async () => {
      const from = new Date(tampered.dataset.timeOf(deleted + 1)).toISOString();
      const response = await query<Verification>(VERIFY, { source: 'ca-tampered', from });
      expect(response.errors).toBeUndefined();
      const check = response.data!.verifyIntegrity!;
      const raw = dataOf<RawVerifyResult>(handleVerify(tampered.data, simRequest('POST', '/api/v1/audit/verify', {}, { from })));
      expect(raw).toMatchObject({ gaps_detected: 1, hash_mismatches: 0 });
      expect(check.vendorVerdict).toMatchObject({ gapsDetected: 1, hashMismatches: 0, logsChecked: raw.logs_checked, verificationHash: raw.verification_hash });
      expect(check.rewalk).toMatchObject({
        valid: false,
        entriesChecked: raw.logs_checked,
        gapsDetected: 1,
        hashMismatches: 0,
        verificationHash: raw.verification_hash,
        anchorHash: tampered.data.hashOf(deleted - 1),
        firstMissingLink: { kind: 'MISSING_RECORD', position: 0, sourceEventId: tampered.data.entry(deleted + 1)!.id },
      });
      expect(check.from).toBe(from);
    });

    it("checks one repository's entries against the organisation-wide chain, counting as the vendor counts", async () => {
      const repository = tampered.data.attributes(modified).repository.id;
      const response = await query<Verification>(VERIFY, { source: 'ca-tampered', repositoryId: repository });
      expect(response.errors).toBeUndefined();
      const check = response.data!.verifyIntegrity!;
      let entries = 0;
      for (let i = 0; i < SIZE; i++) if (!tampered.data.isDeleted(i) && tampered.data.attributes(i).repository.id === repository) entries += 1;
      const gaps = tampered.data.attributes(deleted + 1).repository.id === repository ? 1 : 0;
      expect(check.vendorVerdict).toMatchObject({ logsChecked: entries, hashMismatches: 1, gapsDetected: gaps });
      expect(check.rewalk).toMatchObject({ entriesChecked: entries, hashMismatches: 1, gapsDetected: gaps, verificationHash: check.vendorVerdict!.verificationHash });
      expect(check.rewalk!.firstMismatch?.sourceEventId).toBe(tampered.data.entry(modified)!.id);
      expect(check.repositoryId).toBe(repository);
    });

    it('refuses to re-walk a window larger than it reads at once, after one counting request', async () => {
      const large = setup.simulators.get('ca-large') as RunningComplianceAgentSimulator;
      // The simulator hashes its chain lazily from the first entry: computed here, before the
      // gateway asks, so that the one counting request answers within the gateway's deadline.
      large.data.hashOf(LARGE - 1);
      await idle();
      const before = large.control.stats.requests;
      const response = await query<Verification>('{ verifyIntegrity(source: "ca-large") { source { sourceId } rewalk { valid } } }');
      expect(response.data!.verifyIntegrity).toEqual({ source: { sourceId: 'ca-large' }, rewalk: null });
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.path).toEqual(['verifyIntegrity', 'rewalk']);
      expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE' });
      expect(response.errors![0]!.message).toContain(String(LARGE));
      expect(large.control.stats.requests - before).toBe(1);
    });

    it('refuses a window that ends before it starts, unasked', async () => {
      await idle();
      const before = upstreamCalls();
      const response = await query<Verification>(VERIFY, { source: 'ca-main', from: '2026-09-02T00:00:00Z', to: '2026-09-01T00:00:00Z' });
      expect(response.data?.verifyIntegrity ?? null).toBeNull();
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ARGUMENT_CONFLICT' });
      expect(upstreamCalls()).toBe(before);
    });
  });

  // Last: it leaves the source's upstream client with failures behind it.
  describe('an upstream failure of ComplianceAgent', () => {
    it('nulls only its own fields, with the error at each path, and leaves the rest of the query intact', async () => {
      await idle();
      clean.control.knobs.errorRate = 1;
      let response;
      try {
        response = await query<{
          retentionPolicy: unknown;
          verifyIntegrity: { source: { sourceId: string }; vendorVerdict: unknown } | null;
          sources: Array<{ sourceId: string }>;
          auditEvents: { nodes: Array<{ source: { sourceId: string } }> };
        }>(`{
          retentionPolicy(source: "ca-main") { storageUsedGb }
          verifyIntegrity(source: "ca-main") { source { sourceId } vendorVerdict { verified } }
          sources { sourceId }
          auditEvents(first: 5, filter: { sources: ["nirvana-main"] }) { nodes { source { sourceId } } }
        }`);
      } finally {
        clean.control.knobs.errorRate = 0;
      }
      expect(response.status).toBe(200);
      expect(response.data!.retentionPolicy).toBeNull();
      expect(response.data!.verifyIntegrity).toEqual({ source: { sourceId: 'ca-main' }, vendorVerdict: null });
      expect(response.data!.sources.map((source) => source.sourceId).sort()).toEqual(['ca-large', 'ca-main', 'ca-tampered', 'nirvana-main']);
      expect(response.data!.auditEvents.nodes).toHaveLength(5);
      const byPath = new Map((response.errors ?? []).map((error) => [JSON.stringify(error.path), error.extensions]));
      expect(byPath.size).toBe(2);
      for (const path of [['retentionPolicy'], ['verifyIntegrity', 'vendorVerdict']]) {
        expect(byPath.get(JSON.stringify(path))).toMatchObject({ code: expect.stringMatching(/^UPSTREAM_/), source: 'ca-main' });
      }
    });
  });
});
