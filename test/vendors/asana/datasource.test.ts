import { ErrorCode, UpstreamError } from '../../../src/errors';
import { queryMatcher } from '../../../src/sources/query-matcher';
import type { AuditDataSource, Direction, ListEventsResult, SourceQuery, SourceResume } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { asanaModule } from '../../../src/vendors/asana';
import { descResumeSchema, windowStart } from '../../../src/vendors/asana/paging';
import { asanaRecord, startAsanaSimulator, type AsanaSimulatorOptions } from '../../../src/vendors/asana/simulator';
import type { RawAsanaAuditLogEvent } from '../../../src/vendors/asana/wire-types';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const END = Date.UTC(2026, 10, 1);

/** Runs `test` against a fresh simulator and datasource, closing both afterwards. */
async function withSource(options: Partial<AsanaSimulatorOptions>, test: (dataSource: AuditDataSource, simulator: RunningSimulator) => Promise<void>): Promise<void> {
  const simulator = await startAsanaSimulator({ size: 300, seed: 11, endMs: END, ...options });
  let dataSource: AuditDataSource | undefined;
  try {
    dataSource = dataSourceFor(asanaModule, simulator);
    await test(dataSource, simulator);
  } finally {
    await dataSource?.close();
    await simulator.stop();
  }
}

function list(dataSource: AuditDataSource, direction: Direction, resume: SourceResume | null, query: SourceQuery = NO_FILTER, limit = 100): Promise<ListEventsResult> {
  return dataSource.listEvents({ direction, query, resume, limit, signal: AbortSignal.timeout(10_000) });
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

const ids = (events: readonly { sourceEventId: string }[]) => events.map((event) => event.sourceEventId).sort();

/** `dataSource` with a tally of the `unusableRecords` its batches report. */
function countingUnusable(dataSource: AuditDataSource): { dataSource: AuditDataSource; total: () => number } {
  let total = 0;
  const counted = Object.create(dataSource) as AuditDataSource;
  counted.listEvents = async (request) => {
    const result = await dataSource.listEvents(request);
    total += result.unusableRecords ?? 0;
    return result;
  };
  return { dataSource: counted, total: () => total };
}

describe('AsanaDataSource, oldest first (stream semantics)', () => {
  it('ends on an empty page although Asana keeps sending next_page', async () => {
    await withSource({ size: 250 }, async (dataSource, simulator) => {
      const { events, requests } = await readAll(dataSource, 'ASC', NO_FILTER, 100);
      expect(events).toHaveLength(250);
      // Three pages with data, and the empty one that says "no more for now".
      expect(requests).toBe(4);
      expect(simulator.control.stats.requests).toBe(4);
    });
  });

  it('picks up events appended later from the last offset it followed', async () => {
    await withSource({ size: 50 }, async (dataSource, simulator) => {
      const first = await list(dataSource, 'ASC', null);
      expect(first.events).toHaveLength(50);
      simulator.dataset.append(4);
      const later = await list(dataSource, 'ASC', first.next);
      expect(ids(later.events)).toEqual(ids(simulator.expectedEvents('asana-test').slice(50)));
    });
  });

  it('reports an expired offset as UPSTREAM_CURSOR_EXPIRED instead of starting again', async () => {
    await withSource({ offsetTtlMs: 20 }, async (dataSource) => {
      const first = await list(dataSource, 'ASC', null, NO_FILTER, 10);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const error = await failure(list(dataSource, 'ASC', first.next, NO_FILTER, 10));
      expect(error.code).toBe(ErrorCode.UpstreamCursorExpired);
      expect(error.extensions['source']).toBe('asana-test');
    });
  });
});

describe('AsanaDataSource, newest first over an ascending-only API', () => {
  it('lists every event once in monotone batches when huge groups share one millisecond', async () => {
    await withSource({ size: 3000, tieRate: 0.998 }, async (dataSource, simulator) => {
      const expected = simulator.expectedEvents('asana-test');
      const sizes = new Map<number, number>();
      for (const event of expected) sizes.set(event.occurredAtMs, (sizes.get(event.occurredAtMs) ?? 0) + 1);
      expect(Math.max(...sizes.values())).toBeGreaterThan(500);
      const { events } = await readAll(dataSource, 'DESC', NO_FILTER, 37);
      expect(ids(events)).toEqual(ids(expected));
    });
  });

  it('hands out a crowded millisecond in parts, resuming inside it by offset', async () => {
    await withSource({ size: 1200, tieRate: 0.9995 }, async (dataSource) => {
      // Finding a 1 ms window below a long quiet gap may take calls that hand out nothing.
      let first = await list(dataSource, 'DESC', null);
      for (let calls = 0; first.events.length === 0 && first.next !== null && calls < 5; calls++) first = await list(dataSource, 'DESC', first.next);
      expect(first.events.length).toBeGreaterThan(0);
      expect(new Set(first.events.map((event) => event.occurredAtMs)).size).toBe(1);
      const next = descResumeSchema.parse(first.next);
      expect(next.o).toEqual(expect.any(String));
      expect(next.e - windowStart(next)).toBe(1);
      expect(JSON.stringify(first.next).length).toBeLessThan(400);
    });
  });

  it('finds events stamped after the wall clock when the query has no upper bound', async () => {
    await withSource({ size: 400, endMs: Date.now() + 2 * 86_400_000 }, async (dataSource, simulator) => {
      const { events } = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      expect(ids(events)).toEqual(ids(simulator.expectedEvents('asana-test')));
    });
  });

  it('crosses a month of quiet between old events and new ones in a few requests', async () => {
    await withSource({ size: 300 }, async (dataSource, simulator) => {
      simulator.dataset.append(40);
      const { events, requests } = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      expect(ids(events)).toEqual(ids(simulator.expectedEvents('asana-test')));
      expect(requests).toBeLessThanOrEqual(13);
    });
  });

  it('answers an empty window with no batch and no next', async () => {
    await withSource({}, async (dataSource) => {
      const result = await list(dataSource, 'DESC', null, { ...NO_FILTER, fromMs: END + 1000, toMs: END + 5000 });
      expect(result).toEqual({ events: [], next: null, upstreamRequests: 1 });
    });
  });
});

describe('AsanaDataSource, filters and lookups', () => {
  it('pushes each single-valued filter down exactly: the upstream returns what the gateway filter selects, and nothing else', async () => {
    await withSource({ size: 1000 }, async (dataSource, simulator) => {
      const all = simulator.expectedEvents('asana-test');
      const user = all.find((event) => event.actor.type === 'USER')!.actor.sourceActorId!;
      const inWindow = all.slice(200, 600).find((event) => event.actor.sourceActorId !== null && event.target !== null)!;
      const task = all.find((event) => event.target?.type === 'task')!.target!.sourceTargetId;
      // Bounds on event times: `start_at` must keep the event at `fromMs`, `end_at` drop the one at `toMs`.
      const window = { fromMs: all[200]!.occurredAtMs, toMs: all[600]!.occurredAtMs };
      const queries: Array<[string, SourceQuery]> = [
        ['start_at/end_at', { ...NO_FILTER, ...window }],
        ['event_type', { ...NO_FILTER, actions: ['task_deleted'] }],
        ['actor_gid', { ...NO_FILTER, actorIds: [user] }],
        ['actor_type=asana', { ...NO_FILTER, actorTypes: ['SYSTEM'] }],
        ['actor_type=asana_support', { ...NO_FILTER, actorTypes: ['VENDOR_SUPPORT'] }],
        ['actor_type=anonymous', { ...NO_FILTER, actorTypes: ['ANONYMOUS'] }],
        ['resource_gid', { ...NO_FILTER, targetIds: [task] }],
        ['all at once', { ...NO_FILTER, ...window, actions: [inWindow.action], actorIds: [inWindow.actor.sourceActorId!], targetIds: [inWindow.target!.sourceTargetId] }],
      ];
      for (const [name, query] of queries) {
        const expected = all.filter(queryMatcher(query));
        expect({ name, matches: expected.length > 0 }).toEqual({ name, matches: true });
        for (const direction of ['DESC', 'ASC'] as const) {
          const { events } = await readAll(dataSource, direction, query, 50);
          expect({ name, direction, ids: ids(events) }).toEqual({ name, direction, ids: ids(expected) });
        }
      }
      expect(all.filter(queryMatcher({ ...NO_FILTER, ...window })).map((event) => event.occurredAtMs)).toContain(window.fromMs);
    });
  });

  it('finds an event in a millisecond that holds more than one page', async () => {
    await withSource({ size: 600, tieRate: 0.999 }, async (dataSource, simulator) => {
      const all = simulator.expectedEvents('asana-test');
      const wanted = all[all.length - 1]!;
      expect(all.filter((event) => event.occurredAtMs === wanted.occurredAtMs).length).toBeGreaterThan(100);
      expect(await dataSource.getEvent({ sourceEventId: wanted.sourceEventId, occurredAtMs: wanted.occurredAtMs }, AbortSignal.timeout(10_000))).toEqual(wanted);
    });
  });
});

describe('AsanaDataSource, hostile or broken responses', () => {
  it('refuses a next_page.uri on another origin as UPSTREAM_PROTOCOL_ERROR', async () => {
    await withSource({ nextPageOrigin: 'https://evil.example' }, async (dataSource) => {
      for (const direction of ['ASC', 'DESC'] as const) {
        expect((await failure(list(dataSource, direction, null))).code).toBe(ErrorCode.UpstreamProtocolError);
      }
    });
  });

  it('refuses a next_page.path that climbs out of the base path', async () => {
    await withSource({}, async (dataSource, simulator) => {
      const path = '/../../elsewhere?offset=x';
      simulator.control.inject({ kind: 'status', status: 200, json: { data: [], next_page: { offset: 'x', path, uri: `${simulator.baseUrl}/workspaces/1/audit_log_events` } } });
      expect((await failure(list(dataSource, 'ASC', null))).code).toBe(ErrorCode.UpstreamProtocolError);
    });
  });

  it('refuses an event older than the start_at it asked for as UPSTREAM_PROTOCOL_ERROR, rather than searching for the top forever', async () => {
    await withSource({}, async (dataSource, simulator) => {
      const [oldest] = simulator.expectedEvents('asana-test');
      simulator.control.inject({ kind: 'status', status: 200, json: { data: [oldest!.raw], next_page: null } });
      expect((await failure(list(dataSource, 'DESC', null))).code).toBe(ErrorCode.UpstreamProtocolError);
    });
  });

  it('refuses a next_page without an offset', async () => {
    await withSource({}, async (dataSource, simulator) => {
      simulator.control.inject({ kind: 'status', status: 200, json: { data: [], next_page: { path: '/x' } } });
      expect((await failure(list(dataSource, 'ASC', null))).code).toBe(ErrorCode.UpstreamMalformedResponse);
    });
  });
});

describe('AsanaDataSource, record policy (only gid and created_at are required)', () => {
  it('serves a page with sparse records, leaving out and counting only those without gid or usable created_at', async () => {
    await withSource({}, async (dataSource, simulator) => {
      const [first, second, third, fourth, fifth] = simulator.expectedEvents('asana-test').map((event) => event.raw);
      const { gid: _gid, ...withoutGid } = first!;
      const { actor: _actor, ...withoutActor } = second!;
      const withNulls = { ...third!, actor: { actor_type: null, gid: null }, resource: null, context: null, details: null, event_category: null };
      const withoutTime = { ...fourth!, created_at: 'last tuesday' };
      simulator.control.inject({ kind: 'status', status: 200, json: { data: [withoutGid, withoutActor, withNulls, withoutTime, fifth], next_page: null } });
      const served = await list(dataSource, 'ASC', null);
      expect(served.events.map((event) => event.sourceEventId)).toEqual([second!['gid'], third!['gid'], fifth!['gid']]);
      expect(served.unusableRecords).toBe(2);
      expect(served.events[0]!.actor).toEqual({ sourceId: 'asana-test', sourceActorId: null, type: 'UNKNOWN', name: null, email: null });
      expect(served.events[1]).toMatchObject({ actor: { type: 'UNKNOWN', sourceActorId: null }, target: null, request: null, details: null });
    });
  });

  /** Record `index` made unusable (no gid, or a time that is not one) or sparse (no actor, null parts), by `index`. */
  function damaged(unusableAt: (index: number) => boolean) {
    return (record: RawAsanaAuditLogEvent, index: number): unknown => {
      if (unusableAt(index)) return index % 2 === 0 ? { ...record, gid: undefined } : { ...record, created_at: null };
      if (index % 7 === 3) return { ...record, actor: undefined };
      if (index % 11 === 5) return { ...record, actor: { actor_type: record.actor?.actor_type, gid: null, name: null, email: null }, resource: null, context: null, details: null, event_category: null };
      return record;
    };
  }

  it.each([
    ['scattered, oldest and newest included', (index: number) => index === 0 || index === 799 || index % 13 === 6],
    ['filling whole pages', (index: number) => index >= 100 && index < 330],
  ])('pages through records that cannot be placed (%s) in both orders, losing nothing else and counting each once', async (_case, unusableAt) => {
    await withSource({ size: 800, retentionDays: null, alterRecord: damaged(unusableAt) }, async (dataSource, simulator) => {
      const expected = simulator.expectedEvents('asana-test');
      const unusable = 800 - expected.length;
      expect(unusable).toBeGreaterThan(30);
      expect(expected.some((event) => event.actor.type === 'UNKNOWN')).toBe(true);
      expect(expected.some((event) => event.target === null && event.request === null)).toBe(true);
      for (const direction of ['ASC', 'DESC'] as const) {
        for (const limit of [37, 100]) {
          const counted = countingUnusable(dataSource);
          const { events } = await readAll(counted.dataSource, direction, NO_FILTER, limit);
          expect({ direction, limit, ids: ids(events), unusable: counted.total() }).toEqual({ direction, limit, ids: ids(expected), unusable });
        }
      }
    });
  });

  it('answers a lookup of a record that cannot be placed with UPSTREAM_MALFORMED_RESPONSE, never a silent null', async () => {
    await withSource({ alterRecord: damaged((index) => index === 151) }, async (dataSource, simulator) => {
      // As generated, before its created_at was taken away: the id and time a client would hold.
      const timeless = asanaRecord(simulator.dataset, 151, simulator.credentials['workspaceGid']!);
      const ref = { sourceEventId: timeless.gid!, occurredAtMs: Date.parse(timeless.created_at!) };
      expect((await failure(dataSource.getEvent(ref, AbortSignal.timeout(10_000)))).code).toBe(ErrorCode.UpstreamMalformedResponse);
    });
  });

  it('finds the top of the log newest first when the newest records, stamped in the future, cannot be placed', async () => {
    // The search for the top must step over them, not take the first it meets for the end of the log.
    await withSource({ size: 300, endMs: Date.now() + 86_400_000, alterRecord: damaged((index) => index >= 10) }, async (dataSource, simulator) => {
      const counted = countingUnusable(dataSource);
      const { events } = await readAll(counted.dataSource, 'DESC', NO_FILTER, 100);
      expect(ids(events)).toEqual(ids(simulator.expectedEvents('asana-test')));
      expect(counted.total()).toBe(290);
    });
  });
});

describe('AsanaDataSource, upstream cost', () => {
  it('pages through 10,000 events with about 100 requests oldest first and about 150 newest first', async () => {
    // Newest event a minute ago: a long quiet gap above the data would add a search for its top.
    await withSource({ size: 10_000, endMs: Date.now() - 60_000 }, async (dataSource) => {
      const ascending = await readAll(dataSource, 'ASC', NO_FILTER, 100);
      const descending = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      expect(ascending.events).toHaveLength(10_000);
      expect(descending.events).toHaveLength(10_000);
      expect(ascending.requests).toBe(101);
      expect(descending.requests).toBeLessThanOrEqual(170);
    });
  });
});
