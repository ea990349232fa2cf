import type { DestinationStream } from 'pino';
import { createLogger } from '../../../src/logger';
import { retentionDaysOf } from '../../../src/sources/data-source';
import type { VendorModule } from '../../../src/sources/vendor-module';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource, type ComplianceAgentCredentials } from '../../../src/vendors/complianceagent/datasource';
import { RETENTION_RETRY_MS, RETENTION_TTL_MS } from '../../../src/vendors/complianceagent/retention';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

const POLICY_DAYS = 2555;
const RETENTION_ROUTE = 'GET /api/v1/audit/retention';

describe('ComplianceAgent currentRetentionDays', () => {
  let simulator: RunningComplianceAgentSimulator;
  let clock: number;
  let logLines: string[];
  const opened: ComplianceAgentDataSource[] = [];

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 50, seed: 3, endMs: Date.UTC(2026, 0, 15) });
  });

  beforeEach(() => {
    clock = Date.UTC(2026, 0, 15, 12);
    logLines = [];
  });

  afterEach(async () => {
    await simulator.control.idle();
    simulator.control.knobs.latencyMs = 0;
  });

  afterAll(async () => {
    await Promise.all(opened.map((source) => source.close()));
    await simulator?.stop();
  });

  /** A fresh datasource (empty cache) whose retention cache reads the test's clock and whose log lines are kept. */
  function open(timeouts: { requestMs?: number } = {}): ComplianceAgentDataSource {
    const destination: DestinationStream = { write: (line: string) => void logLines.push(line) };
    const module: VendorModule<ComplianceAgentCredentials> = {
      ...complianceAgentModule,
      createDataSource: (config, deps) => new ComplianceAgentDataSource(config, { ...deps, logger: createLogger({ level: 'debug', destination }) }, { now: () => clock }),
    };
    const source = dataSourceFor(module, simulator, { id: `retention-${opened.length}`, timeouts }) as ComplianceAgentDataSource;
    opened.push(source);
    return source;
  }

  const retentionRequests = () => simulator.control.stats.byRoute.get(RETENTION_ROUTE) ?? 0;
  const days = (source: ComplianceAgentDataSource) => source.currentRetentionDays(AbortSignal.timeout(5_000));

  it("answers the policy's audit-log retention, which the gateway prefers to the static capability", async () => {
    const source = open();
    expect(await days(source)).toBe(POLICY_DAYS);
    expect(source.capabilities.retentionDays).toBeNull();
    expect(await retentionDaysOf(source, AbortSignal.timeout(5_000))).toBe(POLICY_DAYS);
  });

  it('asks once for concurrent callers and not again within ten minutes', async () => {
    const source = open();
    simulator.control.resetStats();
    // Slow enough that every caller arrives while the first request is still out.
    simulator.control.knobs.latencyMs = 100;
    const answers = await Promise.all(Array.from({ length: 20 }, () => days(source)));
    expect(answers).toEqual(Array(20).fill(POLICY_DAYS));
    expect(retentionRequests()).toBe(1);
    expect(simulator.control.stats.maxInFlight).toBe(1);

    for (let i = 0; i < 20; i++) expect(await days(source)).toBe(POLICY_DAYS);
    clock += RETENTION_TTL_MS - 1;
    expect(await days(source)).toBe(POLICY_DAYS);
    expect(retentionRequests()).toBe(1);

    clock += 1;
    expect(await days(source)).toBe(POLICY_DAYS);
    expect(retentionRequests()).toBe(2);
  });

  it('keeps the last known period through a failing /retention, without throwing or logging secrets', async () => {
    const source = open();
    expect(await days(source)).toBe(POLICY_DAYS);
    clock += RETENTION_TTL_MS;
    simulator.control.resetStats();
    // Every attempt of the read fails: the first try and both retries.
    simulator.control.inject({ kind: 'status', status: 503 }, 3);
    expect(await days(source)).toBe(POLICY_DAYS);
    expect(retentionRequests()).toBe(3);

    // A failed read is not repeated on every call for a while.
    expect(await days(source)).toBe(POLICY_DAYS);
    expect(retentionRequests()).toBe(3);
    clock += RETENTION_RETRY_MS;
    expect(await days(source)).toBe(POLICY_DAYS);
    expect(retentionRequests()).toBe(4);

    const warnings = logLines.filter((line) => line.includes('retention policy unavailable'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ source: source.sourceId, code: 'UPSTREAM_UNAVAILABLE' });
    expect(logLines.join('\n')).not.toContain(simulator.credentials['apiKey']!);
  });

  it('answers null when the policy has never been read and the read fails', async () => {
    const source = open();
    simulator.control.inject({ kind: 'status', status: 503 }, 3);
    await expect(days(source)).resolves.toBeNull();
  });

  it('answers the last known value at once when the caller gives up, without failing the shared read', async () => {
    const source = open({ requestMs: 500 });
    simulator.control.inject({ kind: 'blackhole' });
    const started = Date.now();
    expect(await source.currentRetentionDays(AbortSignal.timeout(50))).toBeNull();
    expect(Date.now() - started).toBeLessThan(400);
    // The read the caller left goes on to its own deadline; a patient caller shares its outcome.
    expect(await days(source)).toBeNull();
    clock += RETENTION_RETRY_MS;
    expect(await days(source)).toBe(POLICY_DAYS);
  });
});
