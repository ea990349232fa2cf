import { createHash } from 'node:crypto';
import { request } from 'undici';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server';
import { startHarness, type Answer, type Harness } from './reliability-harness';

/**
 * Data-loss and lifecycle cases of docs/reliability.md over loopback HTTP: an upstream that
 * repeats or reorders events across its pages, a source failing mid-traversal, totals against
 * paging, and a stop while a traversal is in flight.
 */

const PAGE = `query ($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { node { sourceEventId occurredAt source { sourceId } } }
    pageInfo { endCursor hasNextPage }
    sourceStatuses { source { sourceId } status }
    totalCount
  }
}`;

interface PageData {
  auditEvents: {
    edges: Array<{ node: { sourceEventId: string; occurredAt: string; source: { sourceId: string } } }>;
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
    sourceStatuses: Array<{ source: { sourceId: string }; status: string }>;
    totalCount: number | null;
  };
}

/** Pages a whole traversal; `onPage` may inject faults between pages. */
async function traverse(setup: Harness, variables: Record<string, unknown>, onPage: (index: number) => void = () => undefined): Promise<{ keys: string[]; errors: string[]; warnings: string[]; pages: number }> {
  const keys: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  let after: string | null = null;
  for (let index = 0; index < 1000; index++) {
    onPage(index);
    const answer: Answer<PageData> = await setup.query<PageData>(PAGE.replace('totalCount', ''), { ...variables, after });
    errors.push(...(answer.errors ?? []).map((error) => `${String(error.extensions?.['code'])}:${String(error.extensions?.['source'])}`));
    const pageWarnings = (answer.extensions?.['warnings'] ?? []) as Array<{ code: string; source?: string; count?: number }>;
    warnings.push(...pageWarnings.map((warning) => `${warning.code}:${String(warning.source)}:${String(warning.count)}`));
    const connection: PageData['auditEvents'] = answer.data!.auditEvents;
    keys.push(...connection.edges.map((edge) => `${edge.node.source.sourceId}/${edge.node.sourceEventId}`));
    if (!connection.pageInfo.hasNextPage) return { keys, errors, warnings, pages: index + 1 };
    after = connection.pageInfo.endCursor;
  }
  throw new Error('traversal did not end');
}

const sha256 = (keys: readonly string[]) => createHash('sha256').update([...keys].sort().join('\n')).digest('hex');

describe('an upstream that repeats events across its pages (Nirvana wire format, cursor paging)', () => {
  const API_KEY = 'nl_fixture_key';
  let upstream: FixtureServer;
  let setup: Harness;

  /** A Nirvana audit log entry at `minute` past 2025-01-01T00:00Z. */
  const entry = (n: number, minute: number) => ({
    id: `123e4567-e89b-12d3-a456-4266141750${String(n).padStart(2, '0')}`,
    action: 'api_key.created',
    actor: { id: '123e4567-e89b-12d3-a456-426614174000', name: 'Alice Smith', type: 'user' },
    client_ip: '203.0.113.1',
    created_at: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString().replace('.000', ''),
    method: 'POST',
    path: '/v1/api_keys',
    status_code: 201,
    user_agent: 'Mozilla/5.0',
    target: { id: `123e4567-e89b-12d3-a456-4266141742${String(n).padStart(2, '0')}`, type: 'api_key' },
  });
  // Newest first; each page starts with the last entry of the page before (an offset that shifted).
  const pages: Record<string, { items: unknown[]; next: string | null }> = {
    first: { items: [entry(12, 60), entry(11, 55), entry(10, 50), entry(9, 45)], next: 'p2' },
    p2: { items: [entry(9, 45), entry(8, 40), entry(7, 35), entry(6, 30)], next: 'p3' },
    p3: { items: [entry(6, 30), entry(7, 35), entry(5, 25), entry(4, 20)], next: 'p4' },
    p4: { items: [entry(4, 20), entry(3, 15), entry(2, 10), entry(1, 5)], next: null },
  };
  const unique = 12;

  beforeAll(async () => {
    upstream = await startFixtureServer((req) => {
      if (req.headers.authorization !== `Bearer ${API_KEY}`) return { status: 401, json: { message: 'Unauthorized' } };
      if (req.path !== '/v1/audit_logs') return { status: 404, json: { message: 'not found' } };
      if (req.query.get('sort') !== 'created_at:desc') return { status: 400, json: { message: 'this fixture lists newest first only' } };
      const page = pages[req.query.get('cursor') ?? 'first'];
      if (!page) return { status: 400, json: { message: 'invalid cursor' } };
      return { json: { items: page.items, pagination: { next_cursor: page.next, previous_cursor: null, total_count: unique } } };
    });
    setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 10, config: { baseUrl: upstream.baseUrl, apiKey: API_KEY } }]);
  });
  afterAll(async () => {
    await setup?.close();
    await upstream?.close();
  });

  it.each([1, 3, 5, 100])('lists each of the 12 events once, newest first, %i a page', async (first) => {
    const { keys, errors } = await traverse(setup, { first });
    expect(errors).toEqual([]);
    const expected = Array.from({ length: unique }, (_, i) => `nirvana-main/123e4567-e89b-12d3-a456-4266141750${String(unique - i).padStart(2, '0')}`);
    expect(keys).toEqual(expected);
  });
});

describe('an upstream that lists an event out of order, behind the position already reached (Nirvana wire format)', () => {
  const API_KEY = 'nl_fixture_key';
  let upstream: FixtureServer;
  let setup: Harness;
  const entry = (n: number, minute: number) => ({
    id: `123e4567-e89b-12d3-a456-4266141750${String(n).padStart(2, '0')}`,
    action: 'api_key.created',
    actor: { id: '123e4567-e89b-12d3-a456-426614174000', name: 'Alice Smith', type: 'user' },
    created_at: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString().replace('.000', ''),
    method: 'POST',
    path: '/v1/api_keys',
    status_code: 201,
  });
  // Entry 13 (00:52) belongs between 11 and 10 but the upstream sends it on its last page.
  const pages: Record<string, { items: unknown[]; next: string | null }> = {
    first: { items: [entry(12, 60), entry(11, 55), entry(10, 50)], next: 'p2' },
    p2: { items: [entry(9, 45), entry(8, 40), entry(7, 35)], next: 'p3' },
    p3: { items: [entry(13, 52), entry(6, 30), entry(5, 25)], next: null },
  };
  const late = 'nirvana-main/123e4567-e89b-12d3-a456-426614175013';

  beforeAll(async () => {
    upstream = await startFixtureServer((req) => {
      if (req.headers.authorization !== `Bearer ${API_KEY}`) return { status: 401, json: { message: 'Unauthorized' } };
      const page = pages[req.query.get('cursor') ?? 'first'];
      if (!page) return { status: 400, json: { message: 'invalid cursor' } };
      return { json: { items: page.items, pagination: { next_cursor: page.next, previous_cursor: null, total_count: 9 } } };
    });
    setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 10, config: { baseUrl: upstream.baseUrl, apiKey: API_KEY } }]);
  });
  afterAll(async () => {
    await setup?.close();
    await upstream?.close();
  });

  it('lists every other event once, in order', async () => {
    const { keys } = await traverse(setup, { first: 100 });
    const others = keys.filter((key) => key !== late);
    expect(others).toEqual([12, 11, 10, 9, 8, 7, 6, 5].map((n) => `nirvana-main/123e4567-e89b-12d3-a456-4266141750${String(n).padStart(2, '0')}`));
  });

  const inOrder = (numbers: number[]) => numbers.map((n) => `nirvana-main/123e4567-e89b-12d3-a456-4266141750${String(n).padStart(2, '0')}`);

  it.each([1, 100])('lists the others once in order, and reports the late event as unusable for its source instead of skipping it silently (%i a page)', async (first) => {
    // The merge lists events as soon as they are settled, so by the time the last upstream page
    // comes, events after the late one's place are listed: it can no longer be placed.
    const { keys, errors, warnings } = await traverse(setup, { first });
    expect(keys).toEqual(inOrder([12, 11, 10, 9, 8, 7, 6, 5]));
    expect(errors).toEqual([]);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(new Set(warnings)).toEqual(new Set(['UNUSABLE_RECORDS:nirvana-main:1']));
  });
});

describe('a source that fails mid-traversal', () => {
  it('gives a partial page that does not move the failed source forward; the traversal still ends with every event once', async () => {
    const specs = [
      { id: 'nirvana-main', vendor: 'nirvana' as const, size: 150 },
      { id: 'complianceagent-main', vendor: 'complianceagent' as const, size: 150 },
    ];
    const setup = await startHarness(specs);
    const reference = await startHarness(specs);
    try {
      const truth = await traverse(reference, { first: 20 });
      expect(truth.keys).toHaveLength(300);
      const failing = setup.simulators.get('complianceagent-main')!.control;
      // Pages 3 and 4 of the traversal find the source failing (every retry too).
      const run = await traverse(setup, { first: 20 }, (index) => {
        if (index === 2 || index === 3) failing.inject({ kind: 'status', status: 503 }, 3);
      });
      expect(run.errors.length).toBeGreaterThanOrEqual(1);
      expect(new Set(run.errors)).toEqual(new Set(['UPSTREAM_UNAVAILABLE:complianceagent-main']));
      expect(run.keys).toHaveLength(300);
      expect(new Set(run.keys).size).toBe(300);
      expect(sha256(run.keys)).toBe(sha256(truth.keys));
    } finally {
      await setup.close();
      await reference.close();
    }
  });
});

describe('totals against paging', () => {
  it('gives a totalCount for a frozen window equal to the edges paged through that window', async () => {
    const setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 400 },
      { id: 'complianceagent-main', vendor: 'complianceagent', size: 400 },
    ]);
    try {
      const all = await setup.query<PageData>(PAGE, { first: 100 });
      const edges = all.data!.auditEvents.edges;
      // A window inside the data, in the past: frozen.
      const filter = { to: edges[20]!.node.occurredAt, from: edges[90]!.node.occurredAt };
      const counted = await setup.query<PageData>(PAGE, { first: 1, filter });
      expect(counted.errors).toBeUndefined();
      const total = counted.data!.auditEvents.totalCount;
      expect(total).not.toBeNull();
      const paged = await traverse(setup, { first: 7, filter });
      expect(paged.errors).toEqual([]);
      expect(paged.keys.length).toBeGreaterThan(10);
      expect(total).toBe(paged.keys.length);
    } finally {
      await setup.close();
    }
  });
});

describe('stopping while traversals run', () => {
  it('lets a multi-batch traversal in flight finish whole, refuses new requests with 503, then closes', async () => {
    const setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 400 },
      { id: 'asana-main', vendor: 'asana', size: 400 },
    ]);
    for (const simulator of setup.simulators.values()) simulator.control.knobs.latencyMs = 60;
    // Free text no upstream applies: the gateway scans every batch of both sources, one after another.
    let answered = false;
    const longPage = setup.query<PageData>(PAGE.replace('totalCount', ''), { first: 100, filter: { text: 'no such text anywhere' } }).finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const inFlightAtStop = !answered;
    const stopAt = Date.now();
    const stopping = setup.gateway.stop(10_000);
    const late = await request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ sources { sourceId } }"}' })
      .then(async (response) => ({ status: response.statusCode, retryAfter: response.headers['retry-after'], body: await response.body.text() }))
      .catch((error: { code?: string }) => ({ status: error.code ?? 'error', retryAfter: undefined, body: '' }));
    const finished = await longPage;
    const finishedAt = Date.now();
    await stopping;
    try {
      expect(finished.status).toBe(200);
      expect(finished.errors).toBeUndefined();
      expect(finished.data!.auditEvents.edges).toEqual([]);
      expect(finished.data!.auditEvents.sourceStatuses.map((status) => status.status).filter((status) => status === 'FAILED')).toEqual([]);
      // It really was in flight when the stop began, and ran on after it.
      expect(inFlightAtStop).toBe(true);
      expect(finishedAt - stopAt).toBeGreaterThan(150);
      if (late.status === 503) {
        expect(late.retryAfter).toBeDefined();
        expect(JSON.parse(late.body)).toEqual({ errors: [{ message: 'The gateway is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      } else {
        expect(['ECONNREFUSED', 'UND_ERR_SOCKET']).toContain(late.status);
      }
    } finally {
      await Promise.all([...setup.simulators.values()].map((simulator) => simulator.stop()));
    }
  });
});

