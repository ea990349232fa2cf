import { queryMatcher } from '../../../src/sources/query-matcher';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { JsonObject } from '../../../src/models/json';
import type { AuditDataSource, SourceQuery } from '../../../src/sources/data-source';
import { portModule } from '../../../src/vendors/port';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { portFixture, startFakePort, TOKEN_RESPONSE, type FakePort } from './fake-port';

/**
 * The datasource over loopback against record shapes Port published (see each fixture's
 * `$source`), not our simulator's: token exchange, listing, lookup, and the mapping of each field.
 */

const recordsFixture = portFixture('audit-log-records.json');
const audits = (recordsFixture['response'] as { audits: JsonObject[] }).audits;
const byIdentifier = (identifier: string) => audits.find((record) => record['identifier'] === identifier)!;
const tokenFixture = portFixture('access-token.json');
const specFixture = portFixture('audit-log-spec.json');
const specParameters = specFixture['parameters'] as Array<{ name: string; schema: { type?: string; enum?: string[]; format?: string } }>;

const SOURCE = 'port-fixtures';
const request = { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: null, sessionId: null, traceId: null, requestId: null };

/** What each published record becomes, field by field. */
function expectedEvents(): AuditEventModel[] {
  const run = byIdentifier('fixture-run-update');
  const automation = byIdentifier('fixture-automation-entity-update');
  const timer = byIdentifier('fixture-timer-expired');
  const changelog = byIdentifier('fixture-changelog-vm-update');
  return [
    {
      sourceId: SOURCE,
      vendor: 'port',
      sourceEventId: 'fixture-run-update',
      action: 'run.updated',
      category: 'DATA',
      occurredAtMs: Date.UTC(2024, 7, 15, 12, 30, 5, 505),
      actor: { sourceId: SOURCE, sourceActorId: 'auth0|82zea497e300f09d7c1f41', type: 'USER', name: null, email: null, organizationId: 'org_BneVtWovPbXaA6V6Z', application: null },
      // The run is named in its snapshot only; its action is the finer kind.
      target: { sourceId: SOURCE, sourceTargetId: 'r_Q0YotCZMKxDLdlaU', type: 'run', name: null, subtype: 'myActionId', email: null },
      request: { ...request, origin: 'UI' },
      repository: null,
      details: { diff: run['diff']!, context: run['context']! },
      integrity: null,
      failed: null,
      raw: run,
    },
    {
      sourceId: SOURCE,
      vendor: 'port',
      sourceEventId: 'fixture-automation-entity-update',
      action: 'entity.updated',
      category: 'DATA',
      occurredAtMs: Date.UTC(2024, 5, 9, 12, 28, 18, 477),
      actor: { sourceId: SOURCE, sourceActorId: 'auth0|62ceaea697ca00f09d7c4f45', type: 'USER', name: null, email: null, organizationId: 'org_BneDtWovPqXaA2VZ', application: null },
      target: { sourceId: SOURCE, sourceTargetId: 'example-service-identifier', type: 'entity', name: 'Example service renamed', subtype: 'service', email: null },
      request: { ...request, origin: 'UI' },
      repository: null,
      details: { diff: automation['diff']!, context: automation['context']! },
      integrity: null,
      // The example carries no status: Port says nothing of success.
      failed: null,
      raw: automation,
    },
    {
      sourceId: SOURCE,
      vendor: 'port',
      sourceEventId: 'fixture-timer-expired',
      action: 'entity.timer_expired',
      category: 'DATA',
      // `+02:00` in the record.
      occurredAtMs: Date.UTC(2022, 11, 1, 14, 50),
      actor: { sourceId: SOURCE, sourceActorId: null, type: 'SYSTEM', name: null, email: null, organizationId: 'org_example', application: null },
      target: { sourceId: SOURCE, sourceTargetId: 'entityIdentifier', type: 'entity', name: null, subtype: 'timerExample', email: null },
      request: { ...request, origin: 'API' },
      repository: null,
      details: { context: timer['context']! },
      integrity: null,
      failed: false,
      raw: timer,
    },
    {
      sourceId: SOURCE,
      vendor: 'port',
      sourceEventId: 'fixture-changelog-vm-update',
      action: 'entity.updated',
      category: 'DATA',
      occurredAtMs: Date.UTC(2022, 6, 15, 16, 44, 56, 288),
      actor: { sourceId: SOURCE, sourceActorId: 'h2Mf13aRSCYQCUPIcqufoP4XRLwAt8Od@clients', type: 'SERVICE_ACCOUNT', name: null, email: null, organizationId: 'org_sYG4DOJZNGy8bYnt', application: null },
      target: { sourceId: SOURCE, sourceTargetId: 'storage-example', type: 'entity', name: 'Storage Example VM', subtype: 'vm', email: null },
      request: { ...request, origin: 'API' },
      repository: null,
      details: { diff: changelog['diff']!, context: changelog['context']! },
      integrity: null,
      failed: false,
      raw: changelog,
    },
  ];
}

describe('Port over loopback, on the shapes Port published', () => {
  let port: FakePort;
  let dataSource: AuditDataSource;

  beforeEach(async () => {
    port = await startFakePort(audits);
    dataSource = dataSourceFor(portModule, port, { id: SOURCE });
  });
  afterEach(async () => {
    await dataSource.close();
    await port.close();
  });

  it('exchanges the credentials as the spec’s request schema says, then sends the token as a bearer', async () => {
    await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 100, signal: AbortSignal.timeout(5_000) });
    const [exchange, audit] = port.requests;
    const schema = tokenFixture['requestSchema'] as { required: string[]; additionalProperties: boolean };
    expect(exchange).toMatchObject({ method: 'POST', path: '/v1/auth/access_token' });
    expect(exchange!.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(JSON.parse(exchange!.body) as object).sort()).toEqual([...schema.required].sort());
    expect(schema.additionalProperties).toBe(false);
    expect(audit).toMatchObject({ method: 'GET', path: '/v1/audit-log' });
    expect(audit!.headers.authorization).toBe(`Bearer ${TOKEN_RESPONSE.accessToken}`);
  });

  it('maps every published record field by field, and counts the two that cannot be placed, in both orders', async () => {
    for (const direction of ['DESC', 'ASC'] as const) {
      const result = await dataSource.listEvents({ direction, query: NO_FILTER, resume: null, limit: 100, signal: AbortSignal.timeout(5_000) });
      const expected = expectedEvents();
      expect(result.events).toEqual(direction === 'DESC' ? expected : [...expected].reverse());
      // The exporter's test sample (no identifier) and its README template (empty identifier, `at: "Z"`).
      expect(result.unusableRecords).toBe(2);
      expect(result.next).toBeNull();
    }
  });

  it('finds a published record by identifier in one request, and answers null for Port’s 404', async () => {
    const before = port.auditRequests().length;
    expect(await dataSource.findEvent!('fixture-timer-expired', AbortSignal.timeout(5_000))).toEqual(expectedEvents()[2]);
    expect(await dataSource.findEvent!('no-such-log', AbortSignal.timeout(5_000))).toBeNull();
    const lookups = port.auditRequests().slice(before);
    expect(lookups.map((lookup) => Object.fromEntries(lookup.query))).toEqual([{ identifier: 'fixture-timer-expired' }, { identifier: 'no-such-log' }]);
  });

  it('lists nothing, without an error, when Port answers 404 to a pushed-down identifier', async () => {
    const query: SourceQuery = { ...NO_FILTER, sourceEventIds: ['no-such-log'] };
    for (const direction of ['DESC', 'ASC'] as const) {
      const result = await dataSource.listEvents({ direction, query, resume: null, limit: 10, signal: AbortSignal.timeout(5_000) });
      expect(result).toMatchObject({ events: [], next: null });
    }
  });

  /** Queries that exercise every push-down, and target ids, which are never pushed. */
  const queries: Array<[string, SourceQuery]> = [
    ['window', { ...NO_FILTER, fromMs: Date.UTC(2022, 11, 1), toMs: Date.UTC(2024, 7, 1) }],
    ['one action', { ...NO_FILTER, actions: ['entity.updated'] }],
    ['actions of two verbs', { ...NO_FILTER, actions: ['run.updated', 'entity.created'] }],
    ['an operation outside the action enum', { ...NO_FILTER, actions: ['entity.timer_expired'] }],
    ['target types', { ...NO_FILTER, targetTypes: ['run'] }],
    ['failed', { ...NO_FILTER, failed: true }],
    ['succeeded', { ...NO_FILTER, failed: false }],
    ['one event id', { ...NO_FILTER, sourceEventIds: ['fixture-changelog-vm-update'] }],
    ['one entity', { ...NO_FILTER, targetTypes: ['entity'], targetIds: ['storage-example'] }],
    ['one run', { ...NO_FILTER, actions: ['run.updated'], targetIds: ['r_Q0YotCZMKxDLdlaU'] }],
  ];

  it('gives the same events as the gateway’s own filter for every query, in both orders', async () => {
    const all = expectedEvents();
    for (const [name, query] of queries) {
      for (const direction of ['DESC', 'ASC'] as const) {
        const { events } = await readAll(dataSource, direction, query, 2);
        const kept = events.filter(queryMatcher(query)).map((event) => event.sourceEventId).sort();
        expect({ name, direction, kept }).toEqual({ name, direction, kept: all.filter(queryMatcher(query)).map((event) => event.sourceEventId).sort() });
      }
    }
  });

  it('sends only parameters the spec declares, with values it allows, and never a target id', async () => {
    const declared = new Map(specParameters.map((parameter) => [parameter.name, parameter.schema]));
    for (const [, query] of queries) await readAll(dataSource, 'DESC', query, 2);
    const sent = port.auditRequests().flatMap((audit) => [...audit.query]);
    expect(sent.length).toBeGreaterThan(0);
    for (const [name, value] of sent) {
      const schema = declared.get(name);
      expect({ name, declared: schema !== undefined }).toEqual({ name, declared: true });
      if (schema?.enum) expect(schema.enum).toContain(value);
      if (schema?.format === 'date-time') expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      if (schema?.type === 'number') expect(Number.isFinite(Number(value))).toBe(true);
    }
    // The spec's description: CREATE, UPDATE or DELETE.
    for (const [, value] of sent.filter(([name]) => name === 'action')) expect(['CREATE', 'UPDATE', 'DELETE']).toContain(value);
    for (const name of ['entity', 'blueprint', 'run_id', 'webhookId', 'include_deleted_entities']) expect(sent.some(([sentName]) => sentName === name)).toBe(false);
  });
});
