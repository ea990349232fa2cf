import net from 'node:net';
import { getIntrospectionQuery } from 'graphql';
import { request } from 'undici';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const EVENTS = `query ($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter) { edges { cursor node { id } } pageInfo { endCursor } }
}`;

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the gateway refuses bad input with clear GraphQL errors', () => {
  let setup: TestGateway;
  let requestsBefore: number;

  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 120 }]);
  });
  afterAll(async () => {
    await setup?.close();
  });
  beforeEach(() => {
    requestsBefore = setup.simulators.get('nirvana-main')!.control.stats.requests;
  });
  const upstreamCalls = () => setup.simulators.get('nirvana-main')!.control.stats.requests - requestsBefore;

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['first: -1', { first: -1 }, 'first must be between 1 and 100'],
    ['first: 0', { first: 0 }, 'first must be between 1 and 100'],
    ['first: 100000', { first: 100000 }, 'first must be between 1 and 100'],
    ['last: 101', { last: 101 }, 'last must be between 1 and 100'],
    ['both first and last', { first: 5, last: 5 }, 'first and last cannot be used together'],
    ['both after and before', { after: 'x', before: 'y' }, 'after and before cannot be used together'],
    ['a malformed cursor', { first: 5, after: '%%%not-base64' }, 'after: malformed cursor'],
    ['a truncated cursor', { first: 5, after: 'AQID' }, 'after: malformed cursor'],
    ['an unknown source', { filter: { sources: ['nirvana-main', 'nope'] } }, "unknown source 'nope'"],
    ['an empty source list', { filter: { sources: [] } }, 'at least one source'],
    ['from after to', { filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }, 'from must be before to'],
    ['filter text with a newline', { filter: { text: 'a\nb' } }, 'printable'],
    ['filter text of 10,000 characters', { filter: { text: 'x'.repeat(10_000) } }, '256'],
  ];
  for (const [name, variables, message] of cases) {
    it(`refuses ${name} as BAD_USER_INPUT without calling the upstream`, async () => {
      const response = await setup.query(EVENTS, variables);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toContain(message);
      expect(upstreamCalls()).toBe(0);
    });
  }

  it('refuses a literal first: 2147483648 as BAD_USER_INPUT', async () => {
    const response = await setup.query('{ auditEvents(first: 2147483648) { edges { cursor } } }');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('refuses a variable of the wrong type with status 400, before any resolver runs', async () => {
    const response = await setup.query(EVENTS, { first: 'twenty' });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toContain('$first');
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a DateTime without a time zone, quoting the expected form', async () => {
    const response = await setup.query(EVENTS, { filter: { from: '2026-01-01T00:00:00' } });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(/DateTime/);
  });

  it('refuses a cursor with one byte changed as a signature mismatch', async () => {
    const page = await setup.query<{ auditEvents: { pageInfo: { endCursor: string } } }>(EVENTS, { first: 3 });
    const cursor = page.data!.auditEvents.pageInfo.endCursor;
    const bytes = Buffer.from(cursor, 'base64url');
    bytes[10] = bytes[10]! ^ 0x01;
    const response = await setup.query(EVENTS, { first: 3, after: bytes.toString('base64url') });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID' });
    expect(response.errors?.[0]?.message).toBe('after: cursor signature mismatch');
  });

  it('refuses a cursor used with another filter', async () => {
    const page = await setup.query<{ auditEvents: { pageInfo: { endCursor: string } } }>(EVENTS, { first: 3 });
    const response = await setup.query(EVENTS, { first: 3, after: page.data!.auditEvents.pageInfo.endCursor, filter: { actions: ['vm.created'] } });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID' });
    expect(response.errors?.[0]?.message).toContain('different query');
  });

  it('refuses a cursor used with the other order', async () => {
    const page = await setup.query<{ auditEvents: { pageInfo: { endCursor: string } } }>(EVENTS, { first: 3 });
    const ordered = EVENTS.replace('filter: $filter)', 'filter: $filter, orderBy: { direction: ASC })');
    const before = upstreamCalls();
    const response = await setup.query(ordered, { first: 3, after: page.data!.auditEvents.pageInfo.endCursor });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID' });
    expect(response.errors?.[0]?.message).toBe('after: cursor was issued for a different query (filter or order)');
    expect(upstreamCalls()).toBe(before);
  });

  it('refuses a real cursor cut short, at every length, without calling the upstream', async () => {
    const page = await setup.query<{ auditEvents: { pageInfo: { endCursor: string } } }>(EVENTS, { first: 3 });
    const cursor = page.data!.auditEvents.pageInfo.endCursor;
    const before = upstreamCalls();
    for (let length = 1; length < cursor.length; length += Math.max(1, Math.floor(cursor.length / 25))) {
      const response = await setup.query(EVENTS, { first: 3, after: cursor.slice(0, length) });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID' });
      expect(response.errors?.[0]?.message).toMatch(/^after: (malformed cursor|cursor signature mismatch)$/);
      expect(response.data?.['auditEvents'] ?? null).toBeNull();
    }
    expect(upstreamCalls()).toBe(before);
  });

  it('answers an empty last page for a cursor at the end of the data, never the first page again', async () => {
    type Page = { auditEvents: { edges: Array<{ cursor: string }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };
    const PAGE = `query ($first: Int, $after: String) { auditEvents(first: $first, after: $after) { edges { cursor } pageInfo { endCursor hasNextPage } } }`;
    const all = await setup.query<Page>(PAGE, { first: 100 });
    const rest = await setup.query<Page>(PAGE, { first: 100, after: all.data!.auditEvents.pageInfo.endCursor });
    expect(rest.data!.auditEvents.edges).toHaveLength(20);
    expect(rest.data!.auditEvents.pageInfo.hasNextPage).toBe(false);
    const lastCursor = rest.data!.auditEvents.edges.at(-1)!.cursor;
    const past = await setup.query<Page>(PAGE, { first: 5, after: lastCursor });
    expect(past.errors).toBeUndefined();
    expect(past.data!.auditEvents.edges).toEqual([]);
    expect(past.data!.auditEvents.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses an id that is not one', async () => {
    const response = await setup.query('{ auditEvent(id: "not-an-id!") { id } }');
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_ID' });
  });

  it('answers a malformed JSON body with a GraphQL-shaped 400', async () => {
    const response = await request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ sources { sourceId } }"' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/json');
    expect(await response.body.json()).toEqual({ errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('refuses a body over the limit with 413 JSON', async () => {
    const response = await request(setup.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ sources { sourceId } } # ${'x'.repeat(1_100_000)}` }),
    });
    expect(response.statusCode).toBe(413);
    expect(((await response.body.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['two operations and no operationName', 'query A { sources { sourceId } } query B { sources { vendor } }', undefined, /holds 2 operations \(A, B\): say which to run with operationName/],
    ['an operationName the document does not hold (a stale one from GraphiQL)', 'query A { sources { sourceId } }', 'Stale', /operationName 'Stale' names no operation of the document \(it has: A\)/],
    ['a subscription', 'subscription S { sources { sourceId } }', undefined, /subscription 'S': the gateway serves queries and mutations only/],
  ])('refuses %s with 400 OPERATION_RESOLUTION_FAILURE, no stack and no server error', async (_case, query, operationName, message) => {
    const response = await request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, operationName }) });
    const body = (await response.body.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(response.statusCode).toBe(400);
    expect(body.errors[0]!.message).toMatch(message);
    expect(body.errors[0]!.extensions).toEqual({ code: 'OPERATION_RESOLUTION_FAILURE', requestId: expect.any(String) });
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses an operation that may fetch more nodes than a request may, before any upstream call, with its cost', async () => {
    // Fifteen aliases of a full page, each asking every actor and target for its events.
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: auditEvents(first: 100) { nodes { actor { node { events { nodes { id } } } } target { node { events { nodes { id } } } } } }`);
    const response = await setup.query(`{ ${aliases.join(' ')} }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT', cost: 15 * (100 + 100 * 20 * 2), maxCost: 10_000, requestId: expect.any(String) });
    expect(response.errors?.[0]?.message).toMatch(/may fetch 61500 nodes, more than the 10000 a request may/);
    expect(upstreamCalls()).toBe(0);
    const page = await setup.query(`{ auditEvents(first: 100) { nodes { actor { node { events(first: 10) { nodes { id } } } } } } }`);
    expect(page.errors).toBeUndefined();
  });

  it('costs a document sent again as the first time, and an operation with variables by each request\'s variables', async () => {
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: auditEvents(first: 100) { nodes { actor { node { events { nodes { id } } } } } }`);
    for (let i = 0; i < 2; i++) {
      const again = await setup.query(`{ ${aliases.join(' ')} }`);
      expect(again.errors?.[0]?.extensions).toMatchObject({ reason: 'COST_LIMIT', cost: 15 * (100 + 100 * 20) });
    }
    const sized = 'query ($n: Int!) { auditEvents(first: $n) { nodes { actor { node { events(first: 100) { nodes { id } } } } } } }';
    const small = await setup.query(sized, { n: 10 });
    expect(small.errors).toBeUndefined();
    const large = await setup.query(sized, { n: 100 });
    expect(large.errors?.[0]?.extensions).toMatchObject({ reason: 'COST_LIMIT', cost: 100 + 100 * 100 });
    expect((await setup.query(sized, { n: 10 })).errors).toBeUndefined();
  });

  it('refuses batched operations', async () => {
    const response = await request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ query: '{ sources { sourceId } }' }]) });
    expect(response.statusCode).toBe(400);
    expect(await response.body.text()).toContain('Operation batching disabled');
  });

  it('refuses a simple (CSRF-able) request', async () => {
    const response = await request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ sources { sourceId } }"}' });
    expect(response.statusCode).toBe(400);
    expect(await response.body.text()).toMatch(/CSRF/i);
  });

  it('refuses a document nested deeper than 9 levels before running it', async () => {
    const deep = '{ auditEvents { edges { node { actor { node { events { edges { node { target { node { events { edges { node { id } } } } } } } } } } } } } }';
    const response = await setup.query(deep);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).toMatch(/depth \d+ exceeds 9/);
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a document of more than 2,000 tokens while parsing, without calling the upstream', async () => {
    const fields = Array.from({ length: 2_100 }, () => 'sourceId').join(' ');
    const response = await setup.query(`{ sources { ${fields} } }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_PARSE_FAILED');
    expect(response.errors?.[0]?.message).toMatch(/Document contains more th\w+ 2000 tokens/);
    expect(upstreamCalls()).toBe(0);
  });

  it('still takes the introspection query GraphiQL sends', async () => {
    const response = await setup.query(getIntrospectionQuery());
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
  });

  it('refuses more than 15 aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: sources { sourceId }`).join(' ');
    const response = await setup.query(`{ ${aliases} }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).toContain('aliases exceed 15');
  });
});

describe('upstream failures reach the client as typed errors naming the source', () => {
  it('gives UPSTREAM_AUTH_FAILED for a wrong API key, without the key', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 30, credentials: { apiKey: 'CANARY-7f3c-wrong-key' } }]);
    try {
      const response = await setup.query(EVENTS, { first: 5 });
      expect(response.status).toBe(200);
      expect(response.data).toEqual({ auditEvents: null });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_AUTH_FAILED', source: 'nirvana-main', httpStatus: 401 });
      expect(response.errors?.[0]?.message).toContain("source 'nirvana-main'");
      expect(JSON.stringify(response)).not.toContain('CANARY');
    } finally {
      await setup.close();
    }
  });

  it('masks a refused connection as UPSTREAM_UNREACHABLE without host, port or errno', async () => {
    const port = await closedPort();
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 30, baseUrl: `http://127.0.0.1:${port}` }]);
    try {
      const response = await setup.query(EVENTS, { first: 5 });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', source: 'nirvana-main' });
      const text = JSON.stringify(response);
      expect(text).not.toContain('ECONNREFUSED');
      expect(text).not.toContain('127.0.0.1');
      expect(text).not.toContain(String(port));
      expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    } finally {
      await setup.close();
    }
  });
});
