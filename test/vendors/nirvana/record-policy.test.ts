import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditDataSource, Direction, ListEventsResult, SourceResume } from '../../../src/sources/data-source';
import { UnusableRecord } from '../../../src/sources/normalize-page';
import { nirvanaModule } from '../../../src/vendors/nirvana';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog, rfc3339Ms } from '../../../src/vendors/nirvana/normalize';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import type { FixtureServer } from '../../helpers/fixture-server';
import { startTestGateway, type GraphQLResponse } from '../../helpers/gateway';
import { CREDENTIALS, listQueries, loadFixture, startNirvanaFixtureUpstream } from './fixture-upstream';

const SOURCE = 'nirvana-test';
const pages = loadFixture('listing-with-unusable-records.json').pages!;
const signal = () => AbortSignal.timeout(10_000);
const suffix = (id: string) => id.slice(-4);

describe('Nirvana record policy', () => {
  describe('parseNirvanaAuditLog', () => {
    const whole = { id: 'e1', created_at: '2026-05-02T10:00:00Z' };

    it('finds an entry unusable only when it is not an object, has no id, or no RFC 3339 created_at', () => {
      const unusable: unknown[] = [
        null,
        'e1',
        [whole],
        { created_at: whole.created_at },
        { ...whole, id: '' },
        { ...whole, id: 42 },
        { ...whole, id: null },
        { id: 'e1' },
        { ...whole, created_at: null },
        { ...whole, created_at: 1_777_716_000_000 },
        { ...whole, created_at: '2026-05-02T10:00:00' },
        { ...whole, created_at: '2026-05-02 10:00:00Z' },
        { ...whole, created_at: '2026-05-02' },
        { ...whole, created_at: '2026-02-29T10:00:00Z' },
        { ...whole, created_at: '2026-05-02T24:00:00Z' },
        { ...whole, created_at: 'yesterday' },
      ];
      for (const entry of unusable) expect({ entry, thrown: catchOf(() => parseNirvanaAuditLog(entry)) }).toEqual({ entry, thrown: expect.any(UnusableRecord) });
    });

    it('reads an entry with nothing but id and created_at as an event by an unknown actor, with every other part absent', () => {
      for (const extra of [{}, { action: null, actor: null, target: null, client_ip: null, user_agent: null, method: null, path: null, status_code: null }]) {
        const raw = { ...whole, ...extra };
        expect(normalizeNirvanaAuditLog(parseNirvanaAuditLog(raw), SOURCE)).toEqual({
          sourceId: SOURCE,
          vendor: 'nirvana',
          sourceEventId: 'e1',
          action: 'unknown',
          category: 'OTHER',
          occurredAtMs: Date.UTC(2026, 4, 2, 10),
          actor: { sourceId: SOURCE, sourceActorId: null, type: 'UNKNOWN', name: null, email: null },
          target: null,
          request: { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: null, sessionId: null, traceId: null, requestId: null, origin: null },
          repository: null,
          details: null,
          integrity: null,
          failed: null,
          raw,
        });
      }
    });

    it('reads each optional part leniently: wrong types are absent, a partial target is no target, an unknown actor type is UNKNOWN', () => {
      const event = normalizeNirvanaAuditLog(
        parseNirvanaAuditLog({
          ...whole,
          action: '',
          actor: { id: 7, name: 3, type: 'constructor' },
          target: { id: 't1' },
          client_ip: 203,
          method: 'delete',
          path: '/v1/compute/vms/t1',
          status_code: 404.5,
        }),
        SOURCE,
      );
      expect(event).toMatchObject({
        action: 'DELETE /v1/compute/vms/t1',
        actor: { sourceActorId: null, type: 'UNKNOWN', name: null },
        target: null,
        request: { clientIp: null, httpMethod: 'delete', statusCode: null },
        failed: null,
      });
    });
  });

  describe('rfc3339Ms', () => {
    it('reads offsets, any number of fraction digits (truncated to the millisecond), lower-case separators and leap days', () => {
      expect(rfc3339Ms('2026-05-02T10:00:00+02:00')).toBe(Date.UTC(2026, 4, 2, 8));
      expect(rfc3339Ms('2026-05-02T10:00:00.123456789Z')).toBe(Date.UTC(2026, 4, 2, 10, 0, 0, 123));
      expect(rfc3339Ms('2026-05-02t10:00:00.5z')).toBe(Date.UTC(2026, 4, 2, 10, 0, 0, 500));
      expect(rfc3339Ms('2028-02-29T00:00:00-00:00')).toBe(Date.UTC(2028, 1, 29));
      expect(rfc3339Ms('1900-02-29T00:00:00Z')).toBeNull();
      expect(rfc3339Ms('2026-13-01T00:00:00Z')).toBeNull();
      expect(rfc3339Ms('2026-04-31T00:00:00Z')).toBeNull();
    });
  });

  describe('a listing with unusable entries mixed in, over loopback', () => {
    let server: FixtureServer;
    const dataSources: AuditDataSource[] = [];
    beforeAll(async () => {
      server = await startNirvanaFixtureUpstream(pages, { sort: 'ignored' });
    });
    afterAll(async () => {
      await Promise.all(dataSources.map((dataSource) => dataSource.close()));
      await server.close();
    });
    const fresh = () => {
      const dataSource = dataSourceFor(nirvanaModule, { baseUrl: server.baseUrl, credentials: CREDENTIALS });
      dataSources.push(dataSource);
      server.requests.length = 0;
      return dataSource;
    };
    const batches = async (dataSource: AuditDataSource, direction: Direction): Promise<ListEventsResult[]> => {
      const results: ListEventsResult[] = [];
      let resume: SourceResume | null = null;
      do {
        const result = await dataSource.listEvents({ direction, query: NO_FILTER, resume, limit: 10, signal: signal() });
        results.push(result);
        resume = result.next;
      } while (resume !== null && results.length < 20);
      return results;
    };

    it('serves every usable entry newest first, counts exactly the unusable ones per page, and follows the cursors past a page of nothing usable', async () => {
      const dataSource = fresh();
      const results = await batches(dataSource, 'DESC');
      expect(results.map((result) => ({ events: result.events.map((event) => suffix(event.sourceEventId)), unusable: result.unusableRecords ?? 0 }))).toEqual([
        { events: ['6105', '6101', '6102'], unusable: 3 },
        { events: [], unusable: 3 },
        { events: ['6103', '6104'], unusable: 1 },
      ]);
      expect(results[1]!.next).toEqual({ c: 'fixture-unusable-3', s: 'd' });
      expect(listQueries(server).map((query) => query.get('cursor'))).toEqual([null, 'fixture-unusable-2', 'fixture-unusable-3']);
      const events = results.flatMap((result) => result.events);
      expect(events.find((event) => suffix(event.sourceEventId) === '6101')).toMatchObject({
        action: 'project.updated',
        category: 'ADMIN',
        actor: { sourceActorId: null, type: 'UNKNOWN', name: null },
        target: { sourceTargetId: '123e4567-e89b-12d3-a456-426614174305', type: 'project' },
      });
      expect(events.find((event) => suffix(event.sourceEventId) === '6102')).toMatchObject({ target: null, raw: { target: { id: '123e4567-e89b-12d3-a456-426614174301' } } });
      expect(events.find((event) => suffix(event.sourceEventId) === '6103')).toMatchObject({
        action: 'unknown',
        category: 'OTHER',
        actor: { sourceActorId: '123e4567-e89b-12d3-a456-426614174100', type: 'USER', name: null },
        request: { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: null },
        failed: null,
      });
      expect(events.find((event) => suffix(event.sourceEventId) === '6104')).toMatchObject({
        action: 'ssh_key.created',
        category: 'ACCESS',
        occurredAtMs: Date.UTC(2026, 4, 2, 9, 38, 0, 250),
        actor: { type: 'UNKNOWN', name: 'support' },
        request: { statusCode: null },
        failed: null,
      });
    });

    it('walks oldest first through the same pages, counting what each page read left out', async () => {
      const dataSource = fresh();
      const results = await batches(dataSource, 'ASC');
      expect(results.map((result) => ({ events: result.events.map((event) => suffix(event.sourceEventId)), unusable: result.unusableRecords ?? 0 }))).toEqual([
        { events: [], unusable: 3 },
        { events: [], unusable: 3 },
        { events: ['6103', '6104'], unusable: 1 },
        { events: [], unusable: 3 },
        { events: ['6105', '6101', '6102'], unusable: 3 },
      ]);
    });

    it('answers a lookup of an unusable entry as a malformed response, never a silent null', async () => {
      const entry = { id: '123e4567-e89b-12d3-a456-426614176092', created_at: '2026-05-02T09:57:00' };
      const lookup = await startNirvanaFixtureUpstream([], { sort: 'ignored', entries: { [entry.id]: entry } });
      const dataSource = dataSourceFor(nirvanaModule, { baseUrl: lookup.baseUrl, credentials: CREDENTIALS });
      try {
        const error = await dataSource.findEvent!(entry.id, signal()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamError);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamMalformedResponse);
      } finally {
        await dataSource.close();
        await lookup.close();
      }
    });

    it('reports the left-out entries through the gateway: sourceStatuses.unusableRecords and an UNUSABLE_RECORDS warning', async () => {
      type Page = { auditEvents: { nodes: Array<{ sourceEventId: string }>; sourceStatuses: Array<{ status: string; unusableRecords: number }> } };
      const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10, baseUrl: server.baseUrl, credentials: CREDENTIALS }]);
      try {
        const response: GraphQLResponse<Page> & { extensions?: { warnings?: Array<Record<string, unknown>> } } = await setup.query<Page>(
          '{ auditEvents(first: 20) { nodes { sourceEventId } sourceStatuses { status unusableRecords } } }',
        );
        expect(response.errors).toBeUndefined();
        expect(response.data!.auditEvents.nodes.map((node) => suffix(node.sourceEventId))).toEqual(['6105', '6101', '6102', '6103', '6104']);
        expect(response.data!.auditEvents.sourceStatuses[0]!.unusableRecords).toBe(7);
        expect(response.extensions?.warnings).toEqual([expect.objectContaining({ code: 'UNUSABLE_RECORDS', source: 'nirvana-main', count: 7 })]);
      } finally {
        await setup.close();
      }
    });
  });
});

function catchOf(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}
