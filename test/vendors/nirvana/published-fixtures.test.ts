import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, SourceResume } from '../../../src/sources/data-source';
import { nirvanaModule } from '../../../src/vendors/nirvana';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import type { FixtureServer } from '../../helpers/fixture-server';
import { CREDENTIALS, listQueries, loadFixture, startNirvanaFixtureUpstream, type FixturePage } from './fixture-upstream';

const SOURCE = 'nirvana-test';
const signal = () => AbortSignal.timeout(10_000);

/** An event as the datasource must map it: every field spelled out, nothing derived by the test. */
function expected(fields: {
  id: string;
  action: string;
  category: AuditEventModel['category'];
  at: string;
  actor: { id: string | null; type: AuditEventModel['actor']['type']; name: string | null };
  target: { id: string; type: string } | null;
  request: { clientIp: string | null; userAgent: string | null; httpMethod: string | null; path: string | null; statusCode: number | null };
  failed: boolean | null;
  raw: unknown;
}): AuditEventModel {
  return {
    sourceId: SOURCE,
    vendor: 'nirvana',
    sourceEventId: fields.id,
    action: fields.action,
    category: fields.category,
    occurredAtMs: Date.parse(fields.at),
    actor: { sourceId: SOURCE, sourceActorId: fields.actor.id, type: fields.actor.type, name: fields.actor.name, email: null },
    target: fields.target && { sourceId: SOURCE, sourceTargetId: fields.target.id, type: fields.target.type, name: null },
    request: { ...fields.request, sessionId: null, traceId: null, requestId: null, origin: null },
    repository: null,
    details: null,
    integrity: null,
    failed: fields.failed,
    raw: fields.raw as AuditEventModel['raw'],
  };
}

const pagesOf = (name: string): FixturePage[] => loadFixture(name).pages!;
const itemsOf = (page: FixturePage): unknown[] => (page.body as { items: unknown[] }).items;

describe('Nirvana over its published examples (fixtures served over loopback)', () => {
  const servers: FixtureServer[] = [];
  const dataSources: AuditDataSource[] = [];
  const start = async (...args: Parameters<typeof startNirvanaFixtureUpstream>) => {
    const server = await startNirvanaFixtureUpstream(...args);
    servers.push(server);
    const dataSource = dataSourceFor(nirvanaModule, { baseUrl: server.baseUrl, credentials: CREDENTIALS });
    dataSources.push(dataSource);
    return { server, dataSource };
  };
  afterAll(async () => {
    await Promise.all(dataSources.map((dataSource) => dataSource.close()));
    await Promise.all(servers.map((server) => server.close()));
  });

  describe('the docs example (List and Get Audit Logs, verbatim)', () => {
    const list = loadFixture('docs-list-example.json');
    const get = loadFixture('docs-get-example.json');
    const docsEvent = (raw: unknown) =>
      expected({
        id: '123e4567-e89b-12d3-a456-426614174000',
        action: 'vm.created',
        // The example pairs vm.created with GET: the method of the audited request decides that it was a read.
        category: 'DATA',
        at: '2025-01-01T00:00:00.000Z',
        actor: { id: '123e4567-e89b-12d3-a456-426614174000', type: 'USER', name: 'Alice Smith' },
        target: { id: '123e4567-e89b-12d3-a456-426614174000', type: 'vm' },
        request: { clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0', httpMethod: 'GET', path: '/v1/compute/vms', statusCode: 200 },
        failed: false,
        raw,
      });

    it('maps the listed entry field by field, asks newest first with sort=created_at:desc and Bearer auth, and continues at next_cursor', async () => {
      const { server, dataSource } = await start([{ cursors: [null], body: list.body }], { sort: 'ignored' });
      const result = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 50, signal: signal() });
      const item = itemsOf({ cursors: [], body: list.body })[0];
      expect(result.events).toEqual([docsEvent(item)]);
      expect(result.events[0]!.raw).toEqual(item);
      expect(result.next).toEqual({ c: 'RhwniMT4B74siYZcPF8TnCdGI1l9rpPvg', s: 'd' });
      expect(result.upstreamRequests).toBe(1);
      expect(result.unusableRecords).toBeUndefined();
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${CREDENTIALS.apiKey}`);
      expect(Object.fromEntries(server.requests[0]!.query)).toEqual({ limit: '50', sort: 'created_at:desc' });
    });

    it('counts from total_count (125) when the whole log is asked and it spans pages, in one request', async () => {
      const { server, dataSource } = await start([{ cursors: [null], body: list.body }], { sort: 'ignored' });
      expect(await dataSource.countEvents!(NO_FILTER, signal())).toBe(125);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.query.has('sort')).toBe(false);
    });

    it('gets the entry by id (a bare object), mapped the same way, and answers null for an unknown id', async () => {
      const id = '123e4567-e89b-12d3-a456-426614174000';
      const { server, dataSource } = await start([], { sort: 'ignored', entries: { [id]: get.body } });
      expect(await dataSource.findEvent!(id, signal())).toEqual(docsEvent(get.body));
      expect(await dataSource.getEvent({ sourceEventId: id, occurredAtMs: Date.UTC(2025, 0, 1) }, signal())).toEqual(docsEvent(get.body));
      expect(await dataSource.findEvent!('123e4567-e89b-12d3-a456-426614174999', signal())).toBeNull();
      expect(await dataSource.findEvent!('a/b?c', signal())).toBeNull();
      expect(server.requests.map((request) => request.path)).toEqual([
        `/v1/audit_logs/${id}`,
        `/v1/audit_logs/${id}`,
        '/v1/audit_logs/123e4567-e89b-12d3-a456-426614174999',
        '/v1/audit_logs/a%2Fb%3Fc',
      ]);
    });
  });

  describe('a legacy listing (v1.74: cursor and limit only) with entries of older SDK versions', () => {
    const pages = pagesOf('legacy-listing.json');
    const raw = (id: string) => pages.flatMap(itemsOf).find((item) => (item as { id: string }).id === `123e4567-e89b-12d3-a456-42661417000${id}`);
    const alice = '123e4567-e89b-12d3-a456-426614174000';
    const bob = '123e4567-e89b-12d3-a456-426614174100';
    const ciKey = '123e4567-e89b-12d3-a456-426614174200';
    const vm = '123e4567-e89b-12d3-a456-426614174301';
    const newestFirst = () => [
      expected({
        id: '123e4567-e89b-12d3-a456-426614170008',
        action: 'vm.deleted',
        category: 'CONFIGURATION',
        at: '2026-04-17T09:30:00Z',
        actor: { id: ciKey, type: 'API_KEY', name: 'ci-deploy' },
        target: { id: vm, type: 'vm' },
        request: { clientIp: '203.0.113.20', userAgent: 'NirvanaLabs/Go 1.74.0', httpMethod: 'DELETE', path: `/v1/compute/vms/${vm}`, statusCode: 200 },
        failed: false,
        raw: raw('8'),
      }),
      expected({
        id: '123e4567-e89b-12d3-a456-426614170007',
        action: 'vpc.created',
        category: 'CONFIGURATION',
        // Microseconds are truncated to the millisecond; raw keeps them.
        at: '2026-04-17T09:12:44.123Z',
        actor: { id: alice, type: 'USER', name: 'Alice Smith' },
        target: { id: '123e4567-e89b-12d3-a456-426614174302', type: 'vpc' },
        request: { clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0', httpMethod: 'POST', path: '/v1/networking/vpcs', statusCode: 201 },
        failed: false,
        raw: raw('7'),
      }),
      expected({
        id: '123e4567-e89b-12d3-a456-426614170006',
        action: 'vm.created',
        category: 'CONFIGURATION',
        at: '2026-04-07T13:00:00Z',
        actor: { id: bob, type: 'USER', name: null },
        target: null,
        request: { clientIp: '203.0.113.7', userAgent: 'Mozilla/5.0', httpMethod: 'POST', path: '/v1/compute/vms', statusCode: 422 },
        failed: true,
        raw: raw('6'),
      }),
      expected({
        id: '123e4567-e89b-12d3-a456-426614170005',
        action: 'firewall_rule.updated',
        category: 'SECURITY',
        at: '2026-04-07T10:00:00Z',
        actor: { id: bob, type: 'USER', name: 'Bob Jones' },
        target: { id: '123e4567-e89b-12d3-a456-426614174303', type: 'firewall_rule' },
        request: {
          clientIp: '203.0.113.7',
          userAgent: 'Mozilla/5.0',
          httpMethod: 'PATCH',
          path: '/v1/networking/firewall_rules/123e4567-e89b-12d3-a456-426614174303',
          statusCode: 200,
        },
        failed: false,
        raw: raw('5'),
      }),
      expected({
        id: '123e4567-e89b-12d3-a456-426614170004',
        action: 'vm.updated',
        category: 'CONFIGURATION',
        at: '2026-03-27T12:00:00Z',
        actor: { id: alice, type: 'USER', name: null },
        target: { id: vm, type: 'vm' },
        request: { clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0', httpMethod: 'PATCH', path: `/v1/compute/vms/${vm}`, statusCode: 200 },
        failed: false,
        raw: raw('4'),
      }),
      expected({
        id: '123e4567-e89b-12d3-a456-426614170003',
        action: 'volume.created',
        category: 'CONFIGURATION',
        at: '2026-03-27T12:00:00Z',
        actor: { id: ciKey, type: 'API_KEY', name: null },
        target: { id: '123e4567-e89b-12d3-a456-426614174304', type: 'volume' },
        request: { clientIp: '203.0.113.20', userAgent: 'NirvanaLabs/Go 1.58.0', httpMethod: 'POST', path: '/v1/compute/volumes', statusCode: 201 },
        failed: false,
        raw: raw('3'),
      }),
      // Written before `action` existed: named after the audited request.
      expected({
        id: '123e4567-e89b-12d3-a456-426614170002',
        action: 'POST /v1/compute/vms',
        category: 'OTHER',
        at: '2026-03-05T08:00:00Z',
        actor: { id: alice, type: 'USER', name: null },
        target: null,
        request: { clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0', httpMethod: 'POST', path: '/v1/compute/vms', statusCode: 201 },
        failed: false,
        raw: raw('2'),
      }),
      expected({
        id: '123e4567-e89b-12d3-a456-426614170001',
        action: 'GET /v1/compute/vms',
        category: 'DATA',
        at: '2026-03-05T07:59:59.500Z',
        actor: { id: ciKey, type: 'API_KEY', name: null },
        target: null,
        request: { clientIp: '2001:db8::20', userAgent: 'NirvanaLabs/Go 1.50.0', httpMethod: 'GET', path: '/v1/compute/vms', statusCode: 200 },
        failed: false,
        raw: raw('1'),
      }),
    ];

    it('lists newest first through next_cursor, maps every shape field by field, and sends sort=created_at:desc, which this API ignores', async () => {
      const { server, dataSource } = await start(pages, { sort: 'ignored' });
      const { events, requests } = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      expect(events).toEqual(newestFirst());
      expect(requests).toBe(3);
      expect(listQueries(server).map((query) => [query.get('cursor'), query.get('sort')])).toEqual([
        [null, 'created_at:desc'],
        ['RhwniMT4B74siYZcPF8TnCdGI1l9rpPvg', 'created_at:desc'],
        ['fixture-page-3', 'created_at:desc'],
      ]);
    });

    it('lists oldest first by walking next_cursor to the oldest page and previous_cursor back, each state with the sort it was issued with', async () => {
      const { server, dataSource } = await start(pages, { sort: 'ignored' });
      const batches: string[][] = [];
      let resume: SourceResume | null = null;
      do {
        const result = await dataSource.listEvents({ direction: 'ASC', query: NO_FILTER, resume, limit: 10, signal: signal() });
        batches.push(result.events.map((event) => event.sourceEventId.slice(-2)));
        resume = result.next;
      } while (resume !== null);
      // The first answer (asked with sort=created_at:asc) came newest first: the walk's first step.
      expect(batches).toEqual([[], [], ['02', '01'], ['05', '04', '03'], ['08', '07', '06']]);
      expect(dataSource.capabilities.bothOrders).toBe(false);
      expect(listQueries(server).map((query) => [query.get('cursor'), query.get('sort'), query.get('limit')])).toEqual([
        [null, 'created_at:asc', '10'],
        ['RhwniMT4B74siYZcPF8TnCdGI1l9rpPvg', 'created_at:asc', '100'],
        ['fixture-page-3', 'created_at:asc', '100'],
        ['fixture-back-to-page-2', 'created_at:asc', '10'],
        ['ARhwnmi1hA7wEbHbMjdYQlOB_ZusP4fYvw', 'created_at:asc', '10'],
      ]);
    });
  });

  describe('a listing of the current API (v1.94.2), which honours sort and ties cursors to it', () => {
    const pages = pagesOf('current-listing.json');
    const ids = (events: readonly AuditEventModel[]) => events.map((event) => event.sourceEventId.slice(-4));

    it('lists newest first with sort=created_at:desc on every request', async () => {
      const { server, dataSource } = await start(pages, { sort: 'honoured' });
      const { events } = await readAll(dataSource, 'DESC', NO_FILTER, 20);
      expect(ids(events)).toEqual(['5005', '5004', '5003', '5002', '4000']);
      expect(listQueries(server).map((query) => [query.get('cursor'), query.get('sort')])).toEqual([
        [null, 'created_at:desc'],
        ['fixture-desc-2', 'created_at:desc'],
      ]);
      const failedDelete = events[1]!;
      expect(failedDelete).toEqual(
        expected({
          id: '123e4567-e89b-12d3-a456-426614175004',
          action: 'vm.deleted',
          category: 'CONFIGURATION',
          at: '2025-01-01T00:15:00Z',
          actor: { id: '123e4567-e89b-12d3-a456-426614174200', type: 'API_KEY', name: 'ci-deploy' },
          target: { id: '123e4567-e89b-12d3-a456-426614174000', type: 'vm' },
          request: {
            clientIp: '203.0.113.20',
            userAgent: 'NirvanaLabs/Go 1.94.2',
            httpMethod: 'DELETE',
            path: '/v1/compute/vms/123e4567-e89b-12d3-a456-426614174000',
            statusCode: 403,
          },
          failed: true,
          raw: itemsOf(pages[0]!)[1],
        }),
      );
      expect(events[0]!.category).toBe('ACCESS');
      expect(events[3]).toMatchObject({ target: null, failed: true, actor: { type: 'API_KEY' } });
    });

    it('lists oldest first with sort=created_at:asc on every request, and learns that it may', async () => {
      const { server, dataSource } = await start(pages, { sort: 'honoured' });
      const { events } = await readAll(dataSource, 'ASC', NO_FILTER, 20);
      expect(ids(events)).toEqual(['4000', '5002', '5003', '5004', '5005']);
      expect(listQueries(server).map((query) => [query.get('cursor'), query.get('sort')])).toEqual([
        [null, 'created_at:asc'],
        ['fixture-asc-2', 'created_at:asc'],
      ]);
      expect(dataSource.capabilities.bothOrders).toBe(true);
    });

    it('falls back to no sort when sort=created_at:desc is refused, and remembers', async () => {
      // This fixture lists only what is asked with a sort: here its desc pages answer requests without one.
      const withoutSort = pages.map((page) => (page.sort === 'created_at:desc' ? { ...page, sort: undefined } : page));
      const { server, dataSource } = await start(withoutSort, { sort: 'honoured', refuseSorts: ['created_at:desc'] });
      const { events } = await readAll(dataSource, 'DESC', NO_FILTER, 20);
      expect(ids(events)).toEqual(['5005', '5004', '5003', '5002', '4000']);
      await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 20, signal: signal() });
      expect(listQueries(server).map((query) => [query.get('cursor'), query.get('sort')])).toEqual([
        [null, 'created_at:desc'],
        [null, null],
        ['fixture-desc-2', null],
        [null, null],
      ]);
    });
  });
});
