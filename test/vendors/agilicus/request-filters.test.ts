import { queryMatcher } from '../../../src/sources/query-matcher';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, Direction, SourceQuery } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { agilicusModule } from '../../../src/vendors/agilicus';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { agilicusFixture, fixtureRecords, startAgilicusUpstream, storedAtOwnTime, type AgilicusUpstream } from './fixture-upstream';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy';
import { startVendorSimulator } from '../../../src/vendors/simulators';

const AUDITS = '/v1/audits';
const AUTH = '/v1/auth_audits';

type RequestPart = 'clientIp' | 'sessionId' | 'traceId' | 'requestId' | 'userAgent';

let simulator: RunningSimulator;
let proxy: RecordingProxy;
let dataSource: AuditDataSource;
let all: AuditEventModel[];

beforeAll(async () => {
  simulator = await startVendorSimulator(agilicusModule.vendor, { size: 2000, seed: 11, endMs: Date.UTC(2026, 8, 1) });
  proxy = await startRecordingProxy(simulator.baseUrl);
  // Through the proxy, so that each test sees the parameters sent to each endpoint.
  dataSource = dataSourceFor(agilicusModule, { ...simulator, baseUrl: proxy.baseUrl });
  all = simulator.expectedEvents(dataSource.sourceId);
});

afterAll(async () => {
  await dataSource?.close();
  await proxy?.stop();
  await simulator?.stop();
});

function kindOf(event: AuditEventModel): string {
  return event.sourceEventId.slice(0, event.sourceEventId.indexOf(':'));
}

function ids(events: readonly AuditEventModel[]): string[] {
  return events.map((event) => `${event.occurredAtMs}|${event.sourceEventId}`).sort();
}

/** A value of `part` that records of both kinds carry (the most common such value when `shared`), else one of an auth record. */
function valueOf(part: RequestPart, shared: boolean, accept: (value: string) => boolean = () => true): string {
  const kinds = new Map<string, Set<string>>();
  for (const event of all) {
    const value = event.request?.[part];
    if (!value || !accept(value)) continue;
    kinds.set(value, (kinds.get(value) ?? new Set()).add(kindOf(event)));
  }
  const wanted = [...kinds].find(([, seen]) => (shared ? seen.size === 2 : seen.has('auth')));
  if (!wanted) throw new Error(`no ${part} value to test with`);
  return wanted[0];
}

/**
 * Reads `query` to the end in `direction` and checks it against the gateway's own matcher over the
 * ground truth: the datasource may return more (the gateway filters again), never less.
 */
async function readChecked(query: SourceQuery, direction: Direction = 'DESC', limit = 100): Promise<AuditEventModel[]> {
  proxy.requests.length = 0;
  simulator.control.resetStats();
  const { events } = await readAll(dataSource, direction, query, limit);
  const matches = queryMatcher(query);
  const expected = ids(all.filter(matches));
  expect(expected.length).toBeGreaterThan(0);
  expect(ids(events.filter(matches))).toEqual(expected);
  return events;
}

/** `name` was sent with `value` on every auth read, and on no audit read (which still happened). */
function expectPushedToAuthOnly(name: string, value: string): void {
  const auth = proxy.paramsOf(AUTH, name);
  const audits = proxy.paramsOf(AUDITS, name);
  expect(auth.length).toBeGreaterThan(0);
  expect(auth.every((sent) => sent === value)).toBe(true);
  expect(audits.length).toBeGreaterThan(0);
  expect(audits.every((sent) => sent === null)).toBe(true);
}

describe('Agilicus request filters pushed down to /v1/auth_audits', () => {
  const cases: Array<{ field: 'clientIps' | 'sessionIds' | 'traceIds'; param: string; value: () => string }> = [
    { field: 'clientIps', param: 'source_ip', value: () => valueOf('clientIp', true, (ip) => /^[0-9.]+$/.test(ip)) },
    { field: 'sessionIds', param: 'session_id', value: () => valueOf('sessionId', true) },
    // Trace ids are per record: an auth record's, so that the pushed-down read finds something.
    { field: 'traceIds', param: 'trace_id', value: () => valueOf('traceId', false) },
  ];

  for (const { field, param, value } of cases) {
    for (const direction of ['DESC', 'ASC'] as const) {
      it(`sends one ${field} value as ${param} to auth records only and returns exactly the matching events, ${direction}`, async () => {
        const wanted = value();
        const query: SourceQuery = { ...NO_FILTER, [field]: [wanted] };
        const events = await readChecked(query, direction);
        expectPushedToAuthOnly(param, wanted);
        // Applied upstream, so every auth record that came back matches; audit records are the gateway's to filter.
        const matches = queryMatcher(query);
        expect(events.filter((event) => kindOf(event) === 'auth').every(matches)).toBe(true);
        expect(events.some((event) => kindOf(event) === 'audit' && !matches(event))).toBe(true);
      });
    }
  }

  it('finds an audit record by its trace id, which only the gateway can filter there', async () => {
    const wanted = all.find((event) => kindOf(event) === 'audit' && event.request?.traceId)!.request!.traceId!;
    const events = await readChecked({ ...NO_FILTER, traceIds: [wanted] });
    expect(events.filter(queryMatcher({ ...NO_FILTER, traceIds: [wanted] })).map(kindOf)).toEqual(['audit']);
    expectPushedToAuthOnly('trace_id', wanted);
  });

  it('pushes nothing down that the upstream cannot compare exactly: several values, IPv6, ranges', async () => {
    const [first, second] = [...new Set(all.map((event) => event.request?.clientIp).filter((ip): ip is string => !!ip && /^[0-9.]+$/.test(ip)))];
    const ipv6 = valueOf('clientIp', false, (ip) => /^2001:db8::[1-9a-f][0-9a-f]*$/.test(ip));
    const sessions = [valueOf('sessionId', true), all.find((event) => kindOf(event) === 'auth')!.request!.sessionId!];
    const queries: SourceQuery[] = [
      { ...NO_FILTER, clientIps: [first!, second!] },
      { ...NO_FILTER, clientIps: [ipv6] },
      { ...NO_FILTER, clientIps: ['192.0.2.0/24'] },
      { ...NO_FILTER, sessionIds: sessions },
      { ...NO_FILTER, traceIds: all.slice(0, 2).map((event) => event.request!.traceId!) },
    ];
    for (const query of queries) {
      await readChecked(query, 'DESC', 100);
      for (const name of ['source_ip', 'session_id', 'trace_id']) {
        expect({ name, sent: proxy.requests.some((url) => url.searchParams.has(name)) }).toEqual({ name, sent: false });
      }
    }
  });

  it('combines a pushed-down session with an actor, and both with the window', async () => {
    const session = valueOf('sessionId', true);
    const sample = all.find((event) => event.request?.sessionId === session && kindOf(event) === 'auth')!;
    const query: SourceQuery = {
      ...NO_FILTER,
      sessionIds: [session],
      actorIds: [sample.actor.sourceActorId!],
      fromMs: all[Math.floor(all.length / 5)]!.occurredAtMs,
    };
    await readChecked(query, 'ASC', 10);
    expectPushedToAuthOnly('session_id', session);
    expect(proxy.paramsOf(AUTH, 'user_id').every((sent) => sent === sample.actor.sourceActorId)).toBe(true);
  });
});

describe('Agilicus endpoints that cannot match a request filter', () => {
  const skipsAudits: Array<[string, () => SourceQuery]> = [
    ['a user agent', () => ({ ...NO_FILTER, userAgents: [valueOf('userAgent', false).slice(0, 10).toLowerCase()] })],
    ['a request id', () => ({ ...NO_FILTER, requestIds: [valueOf('requestId', false)] })],
    ['failed: true', () => ({ ...NO_FILTER, failed: true })],
    ['failed: false', () => ({ ...NO_FILTER, failed: false })],
  ];

  it.each(skipsAudits)('does not request audit records for %s, which they never carry', async (_what, query) => {
    const events = await readChecked(query(), 'DESC', 500);
    expect(simulator.control.stats.byRoute.get(`GET ${AUDITS}`)).toBeUndefined();
    expect(simulator.control.stats.byRoute.get(`GET ${AUTH}`)).toBeGreaterThan(0);
    expect(events.every((event) => kindOf(event) === 'auth')).toBe(true);
  });

  it('leaves request_id to the gateway: older upstreams do not know it', async () => {
    const requestId = valueOf('requestId', false);
    await readChecked({ ...NO_FILTER, requestIds: [requestId] }, 'DESC', 500);
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(proxy.requests.some((url) => url.searchParams.has('request_id'))).toBe(false);
  });

  it('makes no request for a repository filter, which no Agilicus record carries', async () => {
    simulator.control.resetStats();
    const result = await dataSource.listEvents({ direction: 'DESC', query: { ...NO_FILTER, repositoryIds: ['repo-1'] }, resume: null, limit: 10, signal: AbortSignal.timeout(5000) });
    expect(result).toEqual({ events: [], next: null, upstreamRequests: 0 });
    expect(simulator.control.stats.requests).toBe(0);
  });
});

describe('Agilicus event ids in a filter', () => {
  it('reads only the endpoint and the milliseconds the ids name', async () => {
    const auth = all.filter((event) => kindOf(event) === 'auth')[700]!;
    const audit = all.filter((event) => kindOf(event) === 'audit')[100]!;
    await readChecked({ ...NO_FILTER, sourceEventIds: [auth.sourceEventId] }, 'DESC', 10);
    expect(simulator.control.stats.byRoute.get(`GET ${AUDITS}`)).toBeUndefined();
    expect(simulator.control.stats.requests).toBeLessThanOrEqual(2);
    expect(proxy.paramsOf(AUTH, 'dt_from')[0]).toBe(new Date(auth.occurredAtMs).toISOString());

    const both = await readChecked({ ...NO_FILTER, sourceEventIds: [auth.sourceEventId, audit.sourceEventId] }, 'ASC', 100);
    expect(both.every((event) => event.occurredAtMs >= audit.occurredAtMs && event.occurredAtMs <= auth.occurredAtMs)).toBe(true);
  });

  it('makes no request for ids this source never gives out, or whose time lies outside the window', async () => {
    const event = all[10]!;
    const queries: SourceQuery[] = [
      { ...NO_FILTER, sourceEventIds: ['audit:not-an-id', event.sourceEventId.replace(/^[a-z]+:\d+:/, 'audit:')] },
      { ...NO_FILTER, sourceEventIds: [event.sourceEventId], fromMs: event.occurredAtMs + 1 },
    ];
    for (const query of queries) {
      simulator.control.resetStats();
      const result = await dataSource.listEvents({ direction: 'DESC', query, resume: null, limit: 10, signal: AbortSignal.timeout(5000) });
      expect(result).toEqual({ events: [], next: null, upstreamRequests: 0 });
      expect(simulator.control.stats.requests).toBe(0);
    }
  });
});

describe('Agilicus record filters pushed down with one value', () => {
  const cases: Array<{ what: string; query: () => SourceQuery; sent: Array<[path: string, name: string, value: () => string]> }> = [
    {
      what: 'an audit action as action, to audit records only',
      query: () => ({ ...NO_FILTER, actions: ['DELETE'] }),
      sent: [[AUDITS, 'action', () => 'DELETE']],
    },
    {
      what: 'an actor as user_id, to both endpoints',
      query: () => ({ ...NO_FILTER, actorIds: [all.find((event) => kindOf(event) === 'auth' && event.actor.sourceActorId)!.actor.sourceActorId!] }),
      sent: [
        [AUDITS, 'user_id', () => all.find((event) => kindOf(event) === 'auth' && event.actor.sourceActorId)!.actor.sourceActorId!],
        [AUTH, 'user_id', () => all.find((event) => kindOf(event) === 'auth' && event.actor.sourceActorId)!.actor.sourceActorId!],
      ],
    },
    {
      what: 'a target as target_id and client_id',
      query: () => ({ ...NO_FILTER, targetIds: ['wiki-client'] }),
      sent: [[AUDITS, 'target_id', () => 'wiki-client'], [AUTH, 'client_id', () => 'wiki-client']],
    },
  ];

  it.each(cases)('sends $what, with the same events as the gateway filter', async ({ query, sent }) => {
    await readChecked(query(), 'DESC', 250);
    for (const [path, name, value] of sent) {
      const params = proxy.paramsOf(path, name);
      expect(params.length).toBeGreaterThan(0);
      expect(params.every((param) => param === value())).toBe(true);
    }
  });
});

describe('Agilicus filters left to the gateway: the upstream compares a field the gateway only falls back on', () => {
  const NEVER_SENT = ['target_resource_type', 'api_name', 'token_id', 'event_name', 'result', 'event', 'stage'];

  function expectNeverSent(): void {
    expect(proxy.requests.length).toBeGreaterThan(0);
    for (const name of NEVER_SENT) expect({ name, sent: proxy.requests.some((url) => url.searchParams.has(name)) }).toEqual({ name, sent: false });
  }

  it.each([
    ['a resource type', ['token']],
    ['the type of records without one', ['unknown']],
  ])('matches target types exactly without target_resource_type: %s', async (_what, targetTypes) => {
    await readChecked({ ...NO_FILTER, targetTypes }, 'DESC', 500);
    expectNeverSent();
  });

  it('matches an auth action exactly without event_name or result', async () => {
    await readChecked({ ...NO_FILTER, actions: ['Authentication Request:Success'] }, 'DESC', 500);
    expectNeverSent();
    // Audit records keep their exact `action` filter: an audit action might contain a colon too.
    expect(proxy.paramsOf(AUDITS, 'action').every((sent) => sent === 'Authentication Request:Success')).toBe(true);
  });
});

describe('Agilicus filters left to the gateway, against published record shapes', () => {
  let upstream: AgilicusUpstream;
  let source: AuditDataSource;
  let records: AuditEventModel[];

  beforeAll(async () => {
    const fallback = Date.UTC(2026, 0, 1);
    const audits = [...fixtureRecords(agilicusFixture('list-audits.json'), 'audits'), ...fixtureRecords(agilicusFixture('list-audits-8-field.json'), 'audits')];
    const auth = [...fixtureRecords(agilicusFixture('list-auth-audits.json'), 'auth_audits'), ...fixtureRecords(agilicusFixture('list-auth-audits-1.98.6.json'), 'auth_audits')];
    upstream = await startAgilicusUpstream({ audits: storedAtOwnTime(audits, fallback), authAudits: storedAtOwnTime(auth, fallback) });
    source = dataSourceFor(agilicusModule, { baseUrl: upstream.baseUrl, credentials: { token: 'fixture-token' } });
    records = (await readAll(source, 'DESC', NO_FILTER, 100)).events;
  });

  afterAll(async () => {
    await source?.close();
    await upstream?.close();
  });

  /** Reads `query` through the datasource: exactly the events the gateway's own matcher picks. */
  async function readExact(query: SourceQuery): Promise<AuditEventModel[]> {
    upstream.requests.length = 0;
    const { events } = await readAll(source, 'DESC', query, 100);
    const matched = events.filter(queryMatcher(query));
    expect(ids(matched)).toEqual(ids(records.filter(queryMatcher(query))));
    expect(matched.length).toBeGreaterThan(0);
    return matched;
  }

  it('finds a 1.98.6 auth record by its action, which event_name and result would have lost', async () => {
    const [found] = await readExact({ ...NO_FILTER, actions: ['Login:Success'] });
    expect(found!.raw).not.toHaveProperty('event_name');
    expect(upstream.requests.some((request) => request.query.has('event_name') || request.query.has('result'))).toBe(false);
    // The same filter applied by the upstream, as the newest SDK documents it: nothing.
    const pushed = upstream.answer(AUTH, new URLSearchParams({ event_name: 'Login', result: 'Success' }));
    expect(pushed.json).toEqual({ limit: 500, auth_audits: [] });
  });

  it('finds a record typed by its API, which target_resource_type would have lost', async () => {
    const [found] = await readExact({ ...NO_FILTER, targetTypes: ['connectors'] });
    expect(found!.raw['target_resource_type']).toBeNull();
    expect(upstream.requests.some((request) => request.query.has('target_resource_type'))).toBe(false);
    const pushed = upstream.answer(AUDITS, new URLSearchParams({ target_resource_type: 'connectors' }));
    expect(pushed.json).toEqual({ limit: 500, audits: [] });
  });

  it('finds records of the 8-field Audit by the type they all share', async () => {
    const found = await readExact({ ...NO_FILTER, targetTypes: ['unknown'] });
    expect(found.every((event) => !('target_resource_type' in event.raw))).toBe(true);
  });
});
