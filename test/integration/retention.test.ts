import { asanaModule } from '../../src/vendors/asana';
import { complianceAgentModule } from '../../src/vendors/complianceagent';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const DAY = 86_400_000;
const QUERY = `query ($filter: AuditEventFilter) {
  auditEvents(first: 5, filter: $filter) {
    asOf
    edges { node { id } }
    sourceStatuses { source { sourceId capabilities { retentionDays } } status retainedFrom }
  }
}`;

interface Data {
  auditEvents: {
    asOf: string;
    edges: unknown[];
    sourceStatuses: Array<{ source: { sourceId: string; capabilities: { retentionDays: number | null } }; status: string; retainedFrom: string | null }>;
  };
}
interface Warning {
  code: string;
  message: string;
  source: string;
  retainedFrom: string;
  path: string[];
}

describe('a window older than a source keeps', () => {
  let setup: TestGateway;
  const now = Date.now();

  beforeAll(async () => {
    setup = await startTestGateway(
      [
        { id: 'asana-main', module: asanaModule, size: 200, endMs: now - 60_000 },
        { id: 'nirvana-main', module: nirvanaModule, size: 200, endMs: now - 60_000 },
        { id: 'port-main', module: portModule, size: 200, endMs: now - 60_000 },
      ],
    );
  });
  afterAll(async () => {
    await setup?.close();
  });

  const run = async (fromDaysAgo: number) => {
    const response = await setup.query<Data>(QUERY, { filter: { from: new Date(now - fromDaysAgo * DAY).toISOString() } });
    const { extensions } = response as typeof response & { extensions?: { warnings?: Warning[] } };
    return { response, warnings: extensions?.warnings ?? [] };
  };

  it('answers with a warning naming each source whose retention cuts the window, and the instant it keeps from', async () => {
    const { response, warnings } = await run(400);
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data!.auditEvents.edges).toHaveLength(5);
    const asOf = Date.parse(response.data!.auditEvents.asOf);
    const horizon = (days: number) => new Date(asOf - days * DAY).toISOString();
    expect(warnings).toEqual([
      {
        code: 'SOURCE_RETENTION_EXCEEDED',
        message: `source 'asana-main' keeps events only since ${horizon(90)}: the window starts earlier, and older events cannot be listed`,
        source: 'asana-main',
        retainedFrom: horizon(90),
        path: ['auditEvents'],
      },
      {
        code: 'SOURCE_RETENTION_EXCEEDED',
        message: `source 'port-main' keeps events only since ${horizon(365)}: the window starts earlier, and older events cannot be listed`,
        source: 'port-main',
        retainedFrom: horizon(365),
        path: ['auditEvents'],
      },
    ]);
    expect(response.data!.auditEvents.sourceStatuses.map((status) => [status.source.sourceId, status.source.capabilities.retentionDays, status.retainedFrom])).toEqual([
      ['asana-main', 90, horizon(90)],
      ['nirvana-main', null, null],
      ['port-main', 365, horizon(365)],
    ]);
  });

  it('warns only for the sources the window outlives', async () => {
    const { warnings, response } = await run(200);
    expect(warnings.map((warning) => warning.source)).toEqual(['asana-main']);
    expect(response.data!.auditEvents.sourceStatuses.filter((status) => status.retainedFrom !== null).map((status) => status.source.sourceId)).toEqual(['asana-main']);
  });

  it('says nothing for a window inside every retention, or one without a start', async () => {
    expect((await run(30)).warnings).toEqual([]);
    const open = await setup.query(QUERY, {});
    expect((open as typeof open & { extensions?: unknown }).extensions).toBeUndefined();
  });
});

describe('a source that reports its own retention policy (ComplianceAgent)', () => {
  let setup: TestGateway;
  const now = Date.now();

  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'ca-main', module: complianceAgentModule, size: 200, endMs: now - 60_000 }]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it("warns from the vendor's own period, and shows it in the source's capabilities", async () => {
    const policy = await setup.query<{ source: { capabilities: { retentionDays: number | null } } }>(`{ source(sourceId: "ca-main") { capabilities { retentionDays } } }`);
    const days = policy.data!.source.capabilities.retentionDays;
    expect(days).toBe(2555);
    const response = await setup.query<Data>(QUERY, { filter: { from: new Date(now - (days! + 10) * DAY).toISOString() } });
    const warnings = (response as typeof response & { extensions?: { warnings?: Warning[] } }).extensions?.warnings ?? [];
    const horizon = new Date(Date.parse(response.data!.auditEvents.asOf) - days! * DAY).toISOString();
    expect(warnings).toEqual([expect.objectContaining({ code: 'SOURCE_RETENTION_EXCEEDED', source: 'ca-main', retainedFrom: horizon })]);
    expect(response.data!.auditEvents.sourceStatuses[0]!.retainedFrom).toBe(horizon);
    const inside = await setup.query(QUERY, { filter: { from: new Date(now - (days! - 10) * DAY).toISOString() } });
    expect((inside as typeof inside & { extensions?: unknown }).extensions).toBeUndefined();
  });
});
