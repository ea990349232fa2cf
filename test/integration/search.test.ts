import { compareKeys, keyOf } from '../../src/connection/order';
import type { AuditEventModel } from '../../src/models/audit-event';
import type { JsonValue } from '../../src/models/json';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway';

/*
 * searchAuditEvents over loopback HTTP against every simulator. What should match is worked out
 * here from the simulators' own events and the query language as the README defines it, never
 * with the gateway's matcher.
 */

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const SIZE = 400;

type Part = 'details' | 'actor' | 'target' | 'request';

/** The values a term aimed at `part` is looked for in, as the README lists them. */
function valuesOf(event: AuditEventModel, part: Part | 'any'): string[] {
  const { actor, target, request, repository } = event;
  const details: string[] = [];
  const flatten = (value: JsonValue | null | undefined): void => {
    if (value === null || value === undefined) return;
    if (typeof value === 'object') for (const item of Array.isArray(value) ? value : Object.values(value)) flatten(item);
    else details.push(String(value));
  };
  flatten(event.details);
  const byPart: Record<Part, Array<string | null | undefined>> = {
    details,
    actor: [actor.name, actor.email, actor.sourceActorId, actor.application, actor.automation],
    target: target ? [target.name, target.sourceTargetId, target.type, target.subtype, target.email] : [],
    request: request ? [request.clientIp, request.userAgent, request.httpMethod, request.path, request.sessionId, request.traceId, request.requestId, request.origin] : [],
  };
  const values = part === 'any' ? [event.action, ...byPart.actor, ...byPart.target, ...byPart.request, repository?.name, repository?.sourceRepositoryId, ...details] : byPart[part];
  return values.filter((value): value is string => typeof value === 'string' && value !== '');
}

const identity = (event: { sourceId: string; sourceEventId: string }) => `${event.sourceId}/${event.sourceEventId}`;

interface Hit {
  event: { sourceEventId: string; source: { sourceId: string } };
  matchedFields: string[];
  snippet: string;
}
interface SearchPage {
  searchAuditEvents: {
    edges: Array<{ cursor: string; node: Hit }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    sourceStatuses: Array<{ source: { sourceId: string }; method: string | null; status: string; upstreamRequests: number }>;
  } | null;
}

const SEARCH = `query ($query: String!, $first: Int, $after: String, $filter: AuditEventFilter) {
  searchAuditEvents(query: $query, first: $first, after: $after, filter: $filter) {
    edges { cursor node { event { sourceEventId source { sourceId } } matchedFields snippet } }
    pageInfo { hasNextPage endCursor }
    sourceStatuses { source { sourceId } method status upstreamRequests }
  }
}`;

/** Every hit of a search, page after page, and the statuses of its pages. */
async function searchAll(setup: TestGateway, query: string, first: number, filter?: Record<string, unknown>) {
  const hits: Hit[] = [];
  const statuses: NonNullable<SearchPage['searchAuditEvents']>['sourceStatuses'][] = [];
  let after: string | null = null;
  for (let page = 0; page < 500; page++) {
    const response: GraphQLResponse<SearchPage> = await setup.query<SearchPage>(SEARCH, { query, first, after, filter });
    expect(response.errors).toBeUndefined();
    const connection = response.data!.searchAuditEvents!;
    hits.push(...connection.edges.map((edge) => edge.node));
    statuses.push(connection.sourceStatuses);
    if (!connection.pageInfo.hasNextPage) return { hits, statuses };
    after = connection.pageInfo.endCursor;
  }
  throw new Error('search did not end');
}

/** A phrase of the query language holding `text` exactly. */
const phrase = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

describe('searchAuditEvents over every simulator', () => {
  let setup: TestGateway;
  let truth: AuditEventModel[];
  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: SIZE, seed: 70 + index })));
    truth = [...setup.simulators.entries()].flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId));
  });
  afterAll(async () => {
    await setup?.close();
  });

  /** The events a term aimed at `part` matches, newest first. */
  const expectedHits = (part: Part | 'any', text: string, events: readonly AuditEventModel[] = truth) =>
    events
      .filter((event) => valuesOf(event, part).some((value) => value.toLowerCase().includes(text.toLowerCase())))
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b), 'DESC'))
      .map(identity);

  /** A value of `part` in `sourceId`'s events that few events anywhere hold: a planted needle. */
  const rareValue = (sourceId: string, part: Part): string | null => {
    const candidates = [...new Set(truth.filter((event) => event.sourceId === sourceId).flatMap((event) => valuesOf(event, part)))].filter((value) => value.length >= 4).slice(0, 15);
    let best: { value: string; hits: number } | null = null;
    for (const value of candidates) {
      const hits = expectedHits(part, value).length;
      if (!best || hits < best.hits || (hits === best.hits && value.length > best.value.length)) best = { value, hits };
    }
    return best?.value ?? null;
  };

  it("finds strings taken from each vendor's details, actor, target and request fields", async () => {
    const tested = new Map<string, Part[]>();
    for (const sourceId of setup.simulators.keys()) {
      for (const part of ['details', 'actor', 'target', 'request'] as const) {
        const needle = rareValue(sourceId, part);
        // Nirvana records no details, Port no request but its origin: what a vendor never records cannot be planted.
        if (needle === null) continue;
        const { hits } = await searchAll(setup, `${part}:${phrase(needle)}`, 50);
        const expected = expectedHits(part, needle);
        expect(hits.map((hit) => identity({ sourceId: hit.event.source.sourceId, sourceEventId: hit.event.sourceEventId }))).toEqual(expected);
        expect(expected.some((id) => id.startsWith(`${sourceId}/`))).toBe(true);
        for (const hit of hits) {
          expect(hit.matchedFields.some((field) => field.startsWith(`${part}.`))).toBe(true);
          expect(hit.snippet).toMatch(/<em>/);
        }
        tested.set(sourceId, [...(tested.get(sourceId) ?? []), part]);
      }
    }
    expect(tested.size).toBe(modules.length);
    for (const [sourceId, parts] of tested) {
      expect(parts).toEqual(expect.arrayContaining(['actor', 'target', 'request']));
      if (!sourceId.startsWith('nirvana')) expect(parts).toContain('details');
    }
  }, 60_000);

  it('pages through every hit of a common term, newest first, without loss or repetition', async () => {
    const { hits } = await searchAll(setup, 'USER', 7);
    const ids = hits.map((hit) => identity({ sourceId: hit.event.source.sourceId, sourceEventId: hit.event.sourceEventId }));
    const expected = expectedHits('any', 'user');
    expect(expected.length).toBeGreaterThan(100);
    expect(ids).toEqual(expected);

    // With a filter, and two terms that must both match.
    const times = truth.map((event) => event.occurredAtMs).sort((a, b) => a - b);
    const from = new Date(times[Math.floor(times.length / 3)]!).toISOString();
    const sources = ['asana-main', 'complianceagent-main', 'port-main'];
    const narrowed = await searchAll(setup, 'e "a"', 13, { from, sources });
    const inFilter = truth.filter((event) => sources.includes(event.sourceId) && event.occurredAtMs >= Date.parse(from));
    const both = new Set(expectedHits('any', 'a', inFilter));
    expect(narrowed.hits.map((hit) => identity({ sourceId: hit.event.source.sourceId, sourceEventId: hit.event.sourceEventId }))).toEqual(expectedHits('any', 'e', inFilter).filter((id) => both.has(id)));
  }, 60_000);

  it("uses ComplianceAgent's own search where it answers the question, and scans where it cannot", async () => {
    const ca = setup.simulators.get('complianceagent-main')!;
    const needle = rareValue('complianceagent-main', 'details')!;
    for (const simulator of setup.simulators.values()) simulator.control.resetStats();
    const { hits, statuses } = await searchAll(setup, `details:${phrase(needle)}`, 50);
    expect(hits.map((hit) => identity({ sourceId: hit.event.source.sourceId, sourceEventId: hit.event.sourceEventId }))).toEqual(expectedHits('details', needle));
    const status = statuses[0]!.find((item) => item.source.sourceId === 'complianceagent-main')!;
    expect(status.method).toBe('NATIVE');
    // One search and one lookup per hit of its own: never a read of its log.
    expect(ca.control.stats.byRoute.get('GET /api/v1/audit/logs') ?? 0).toBe(0);
    expect(ca.control.stats.requests).toBe(1 + expectedHits('details', needle).filter((id) => id.startsWith('complianceagent-main/')).length);
    for (const other of statuses[0]!.filter((item) => item.source.sourceId !== 'complianceagent-main')) expect(other.method).toBe('SCANNED');

    // More hits than its search returns at once: the gateway reads the source itself.
    const common = await searchAll(setup, 'details:e', 100);
    expect(common.statuses[0]!.find((item) => item.source.sourceId === 'complianceagent-main')!.method).toBe('SCANNED');
    expect(common.hits.length).toBe(expectedHits('details', 'e').length);
  }, 60_000);

  it('refuses a malformed query with BAD_USER_INPUT naming the position, before any upstream call', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.resetStats();
    const cases: Array<[string, number]> = [
      ['actor:"jane', 7],
      ['   ', 1],
      ['foo:bar', 1],
      ['login actor: x', 13],
      ['ab"c', 3],
      ['"x"y', 4],
    ];
    for (const [query, position] of cases) {
      const response = await setup.query(SEARCH, { query });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_QUERY', field: 'query', position });
      expect(response.errors?.[0]?.message).toContain(`position ${position}`);
    }
    const badPage = await setup.query(SEARCH, { query: 'user', first: 101 });
    expect(badPage.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE' });
    const badFilter = await setup.query(SEARCH, { query: 'user', filter: { sources: ['nope'] } });
    expect(badFilter.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE' });
    expect([...setup.simulators.values()].every((simulator) => simulator.control.stats.requests === 0)).toBe(true);
  });

  it('refuses the cursor of another search', async () => {
    const first: GraphQLResponse<SearchPage> = await setup.query<SearchPage>(SEARCH, { query: 'user', first: 5 });
    const cursor = first.data!.searchAuditEvents!.pageInfo.endCursor;
    const other = await setup.query(SEARCH, { query: 'actor:user', first: 5, after: cursor });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const events = await setup.query('query ($after: String) { auditEvents(first: 5, after: $after) { nodes { id } } }', { after: cursor });
    expect(events.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
