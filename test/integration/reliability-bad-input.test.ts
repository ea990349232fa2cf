import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startHarness, STACK_LINE, type Harness } from './reliability-harness';

/**
 * Bad input the gateway must refuse before any upstream call: the cases of docs/reliability.md
 * that test/integration/bad-input.test.ts does not already cover, over loopback HTTP.
 */

const EVENTS = `query ($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter) { edges { cursor node { id source { sourceId } } } pageInfo { endCursor hasNextPage } }
}`;

interface Page {
  auditEvents: { edges: Array<{ cursor: string; node: { id: string; source: { sourceId: string } } }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
}

describe('bad input over HTTP, with a gateway in its default (development) settings', () => {
  let setup: Harness;
  let before: Record<string, number>;
  const upstreamCalls = () => {
    const now = setup.upstreamCounts();
    return Object.keys(now).reduce((sum, id) => sum + now[id]! - (before[id] ?? 0), 0);
  };

  beforeAll(async () => {
    setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 120 },
      { id: 'asana-main', vendor: 'asana', size: 60 },
    ]);
  });
  afterAll(async () => {
    await setup?.close();
  });
  beforeEach(async () => {
    await setup.idle();
    before = setup.upstreamCounts();
    setup.logLines.length = 0;
  });

  it.each([
    ['"yesterday"', 'yesterday'],
    ['"2024-13-01" (month 13)', '2024-13-01'],
    ['a date without a time', '2024-01-01'],
  ])('refuses a DateTime of %s with 400 BAD_USER_INPUT naming the scalar, before any upstream call', async (_name, from) => {
    const response = await setup.query(EVENTS, { first: 5, filter: { from } });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(/DateTime cannot represent/);
    expect(response.errors?.[0]?.message).toContain('filter.from');
    expect(upstreamCalls()).toBe(0);
  });

  it('quotes the expected ISO-8601 form in a DateTime refusal', async () => {
    const response = await setup.query(EVENTS, { first: 5, filter: { from: 'yesterday' } });
    expect(response.errors?.[0]?.message).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
  });

  it('reads a source named twice once: one status, no event twice', async () => {
    const response = await setup.query<Page & { auditEvents: { sourceStatuses: Array<{ source: { sourceId: string } }> } }>(
      `{ auditEvents(first: 100, filter: { sources: ["nirvana-main", "nirvana-main"] }) { edges { node { id source { sourceId } } } sourceStatuses { source { sourceId } } } }`,
    );
    expect(response.errors).toBeUndefined();
    const { edges, sourceStatuses } = response.data!.auditEvents;
    expect(sourceStatuses.map((status) => status.source.sourceId)).toEqual(['nirvana-main']);
    expect(edges).toHaveLength(100);
    expect(new Set(edges.map((edge) => edge.node.id)).size).toBe(100);
    expect(edges.every((edge) => edge.node.source.sourceId === 'nirvana-main')).toBe(true);
  });

  it('refuses filter text with a NUL character, before any upstream call', async () => {
    const response = await setup.query(EVENTS, { first: 5, filter: { text: 'a\u0000b' } });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_FILTER', field: 'filter.text' });
    expect(response.errors?.[0]?.message).toMatch(/256 printable characters/);
    expect(upstreamCalls()).toBe(0);
  });

  it('keeps every log line one JSON line when client input or upstream text carries CR/LF and a forged log record', async () => {
    const forged = '{"level":50,"msg":"forged line"}';
    await setup.query(EVENTS, { first: 5, filter: { text: `x\r\n${forged}` } });
    await setup.post({ query: '{ sources { sourceId } }', operationName: `Stale\r\n${forged}` });
    // Upstream text does reach the log (the error body, for operators): it must stay inside its line.
    setup.simulators.get('nirvana-main')!.control.inject({ kind: 'status', status: 404, json: { message: `gone\r\n${forged}\n` } });
    await setup.query(EVENTS, { first: 5, filter: { sources: ['nirvana-main'] } });
    const lines = setup.logLines.join('').split('\n').filter((line) => line.length > 0);
    expect(lines.some((line) => line.includes('forged line'))).toBe(true);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(setup.logRecords().some((record) => record['msg'] === 'forged line')).toBe(false);
  });

  it('refuses a depth of 20 reached through nested fragments, naming the depth, before any upstream call', async () => {
    // auditEvents.edges.node is 3 levels; each fragment adds 5 (actor.node.events.edges.node); the
    // last ends in source.sourceId (2 more): 3 + 3 * 5 + 2 = 20.
    const fragments = Array.from({ length: 3 }, (_, i) => `fragment F${i} on AuditEvent { actor { node { events { edges { node { ${i < 2 ? `...F${i + 1}` : 'source { sourceId }'} } } } } } }`);
    const query = `{ auditEvents { edges { node { ...F0 } } } } ${fragments.join(' ')}`;
    const response = await setup.query(query);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', reason: 'MAX_DEPTH' });
    expect(response.errors?.[0]?.message).toBe('query depth 20 exceeds 9');
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses 100 aliases of auditEvents(first: 100) before execution: MAX_ALIASES, 0 upstream calls', async () => {
    const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: auditEvents(first: 100) { nodes { id } }`).join(' ');
    const response = await setup.query(`{ ${aliases} }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', reason: 'MAX_ALIASES' });
    expect(response.errors?.[0]?.message).toBe('16 aliases exceed 15');
    expect(response.data ?? null).toBeNull();
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a fragment cycle with 400 GRAPHQL_VALIDATION_FAILED, before any upstream call', async () => {
    const response = await setup.query('query { ...A } fragment A on Query { auditEvents(first: 1) { nodes { id } } ...B } fragment B on Query { ...A }');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.errors?.[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a 100 KB document of 20,000 tokens while parsing (maxTokens), before validation', async () => {
    const fields = Array.from({ length: 20_000 }, () => 'sourceId').join(' ');
    const query = `{ sources { ${fields} } }`;
    expect(query.length).toBeGreaterThan(100_000);
    const response = await setup.query(query);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_PARSE_FAILED');
    expect(response.errors?.[0]?.message).toMatch(/more th\w+ 2000 tokens/);
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a GET without a preflight header as a possible CSRF (400 JSON), and serves one with it', async () => {
    const url = `${setup.gateway.url}?query=${encodeURIComponent('{ auditEvents(first: 1) { nodes { id } } }')}`;
    const blocked = await request(url);
    expect(blocked.statusCode).toBe(400);
    expect(blocked.headers['content-type']).toMatch(/application\/json/);
    const body = (await blocked.body.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]!.message).toMatch(/Cross-Site Request Forgery \(CSRF\)/);
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(upstreamCalls()).toBe(0);
    const allowed = await request(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(allowed.statusCode).toBe(200);
    await allowed.body.dump();
  });

  it('refuses an export of a format the schema does not have with 400 GRAPHQL_VALIDATION_FAILED, before anything runs', async () => {
    const response = await setup.query('mutation { startAuditExport(input: { formats: [PDF] }) { id } }');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.errors?.[0]?.message).toMatch(/"PDF" does not exist in "AuditExportFormat"/);
    expect(response.data ?? null).toBeNull();
    expect(upstreamCalls()).toBe(0);
  });

  it('refuses a mutation sent with GET: 405 with Allow: POST, nothing run', async () => {
    const mutation = 'mutation { startEvidenceExport(input: { source: "nirvana-main", framework: "soc2", auditPeriod: { from: "2026-01-01", to: "2026-03-31" } }) { status } }';
    const response = await request(`${setup.gateway.url}?query=${encodeURIComponent(mutation)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.statusCode).toBe(405);
    expect(response.headers['allow']).toBe('POST');
    const body = (await response.body.json()) as { errors: Array<{ message: string; extensions: { code: string } }>; data?: unknown };
    expect(body.errors[0]!.message).toMatch(/GET requests only support query operations/);
    expect(body.data).toBeUndefined();
    expect(upstreamCalls()).toBe(0);
  });

  it('logs a stale operationName and a subscription without an error-level line or a stack', async () => {
    const stale = await setup.post({ query: 'query A { sources { sourceId } }', operationName: 'Stale' });
    const subscription = await setup.post({ query: 'subscription S { sources { sourceId } }' });
    expect([stale.status, subscription.status]).toEqual([400, 400]);
    for (const answer of [stale, subscription]) {
      expect(answer.errors?.[0]?.extensions?.['code']).toBe('OPERATION_RESOLUTION_FAILURE');
      expect(answer.text).not.toMatch(STACK_LINE);
    }
    const records = setup.logRecords();
    expect(records.filter((record) => Number(record['level']) >= 50)).toEqual([]);
    expect(setup.logLines.join('')).not.toMatch(STACK_LINE);
    expect(upstreamCalls()).toBe(0);
  });

  it('logs a refused subscription once, at info', async () => {
    await setup.post({ query: 'subscription S { sources { sourceId } }' });
    const lines = setup.logRecords().filter((record) => /subscription/i.test(JSON.stringify(record)));
    expect(lines).toHaveLength(1);
    expect(lines[0]!['level']).toBe(30);
  });
});

describe('input errors raised while resolving, and their HTTP status', () => {
  // Errors found by the resolvers (paging arguments, cursors, filters, unknown sources) are a 400
  // like those found before execution (parse, validation, variable coercion).
  let setup: Harness;
  beforeAll(async () => {
    setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 30 }]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it.each([
    ['first: 0', { first: 0 }],
    ['first: 101', { first: 101 }],
    ['first and last together', { first: 1, last: 1 }],
    ['after and before together', { after: 'x', before: 'y' }],
    ['a malformed cursor', { first: 1, after: '%%%not-base64' }],
    ['from after to', { filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }],
    ['an unknown source', { filter: { sources: ['nope'] } }],
    ['an empty source list', { filter: { sources: [] } }],
    ['filter text of 10,000 characters', { filter: { text: 'x'.repeat(10_000) } }],
  ])('answers %s with HTTP 400, BAD_USER_INPUT and a null connection, without an upstream call', async (_name, variables) => {
    const before = setup.upstreamCounts()['nirvana-main']!;
    const response = await setup.query(EVENTS, variables);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.data).toEqual({ auditEvents: null });
    expect(setup.upstreamCounts()['nirvana-main']).toBe(before);
  });
});

describe('expired cursors over HTTP', () => {
  it('refuses a cursor signed with a retired key past its grace period as CURSOR_EXPIRED, and accepts it within the period', async () => {
    const oldSecret = randomBytes(32).toString('hex');
    const first = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 60 }], { cursorSecret: oldSecret });
    let cursor: string;
    try {
      const page = await first.query<Page>(EVENTS, { first: 5 });
      cursor = page.data!.auditEvents.pageInfo.endCursor!;
    } finally {
      await first.close();
    }
    const retired = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 60 }], { previousCursorSecrets: [{ secret: oldSecret, untilMs: Date.now() - 1000 }] });
    const rotating = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 60 }], { previousCursorSecrets: [{ secret: oldSecret, untilMs: Date.now() + 60_000 }] });
    try {
      const before = retired.upstreamCounts()['nirvana-main'];
      const refused = await retired.query(EVENTS, { first: 5, after: cursor });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_EXPIRED', field: 'after' });
      expect(refused.errors?.[0]?.message).toBe('after: cursor signed with a retired key; restart the traversal from the first page');
      expect(refused.status).toBe(400);
      expect(refused.data).toEqual({ auditEvents: null });
      expect(retired.upstreamCounts()['nirvana-main']).toBe(before);
      expect(refused.text).not.toContain(oldSecret);

      const accepted = await rotating.query<Page>(EVENTS, { first: 5, after: cursor });
      expect(accepted.errors).toBeUndefined();
      expect(accepted.data!.auditEvents.edges).toHaveLength(5);
    } finally {
      await retired.close();
      await rotating.close();
    }
  });

  it('refuses a cursor older than cursorTtlSeconds as CURSOR_EXPIRED', async () => {
    const setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 30 }], { cursorTtlSeconds: 1 });
    try {
      const page = await setup.query<Page>(EVENTS, { first: 5 });
      const cursor = page.data!.auditEvents.pageInfo.endCursor!;
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const response = await setup.query(EVENTS, { first: 5, after: cursor });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_EXPIRED' });
      expect(response.errors?.[0]?.message).toBe('after: cursor expired; restart the traversal from the first page');
    } finally {
      await setup.close();
    }
  });
});

describe('bad input in production settings (introspection and GraphiQL off)', () => {
  let setup: Harness;
  beforeAll(async () => {
    setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 30 }], { introspection: false, graphiql: false });
  });
  afterAll(async () => {
    await setup?.close();
  });

  it.each([
    ['a misspelled field', '{ sourcez { sourceId } }'],
    ['a misspelled argument', '{ auditEvents(frist: 5) { nodes { id } } }'],
    ['a misspelled enum value', '{ auditEvents(first: 1, orderBy: { direction: ASCC }) { nodes { id } } }'],
  ])('refuses %s with 400 GRAPHQL_VALIDATION_FAILED and no "Did you mean"', async (_name, query) => {
    const before = setup.upstreamCounts()['nirvana-main'];
    const response = await setup.query(query);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.text).not.toMatch(/did you mean/i);
    expect(response.text).not.toMatch(STACK_LINE);
    expect(setup.upstreamCounts()['nirvana-main']).toBe(before);
  });

  it('refuses __schema and __type with 400 naming introspection', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "AuditEvent") { fields { name } } }']) {
      const response = await setup.query(query);
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(response.errors?.[0]?.message).toMatch(/introspection/i);
    }
  });

  it('serves no GraphiQL page', async () => {
    const response = await request(setup.gateway.url, { headers: { accept: 'text/html' } });
    expect(response.headers['content-type']).not.toMatch(/text\/html/);
    await response.body.dump();
  });
});
