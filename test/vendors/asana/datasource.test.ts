import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditDataSource, Direction, ListEventsResult, SourceQuery, SourceResume } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/sources/vendor-module';
import { asanaModule } from '../../../src/vendors/asana';
import { parseDescResume, windowStart } from '../../../src/vendors/asana/paging';
import { startAsanaSimulator, type AsanaSimulatorOptions } from '../../../src/vendors/asana/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const END = Date.UTC(2026, 10, 1);

/** Runs `test` against a fresh simulator and datasource, closing both afterwards. */
async function withSource(options: Partial<AsanaSimulatorOptions>, test: (dataSource: AuditDataSource, simulator: RunningSimulator) => Promise<void>): Promise<void> {
  const simulator = await startAsanaSimulator({ size: 300, seed: 11, endMs: END, ...options });
  const dataSource = dataSourceFor(asanaModule, simulator);
  try {
    await test(dataSource, simulator);
  } finally {
    await dataSource.close();
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
      const next = parseDescResume(first.next, 'asana-test')!;
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

  it('keeps to a time window in both directions', async () => {
    await withSource({ size: 800 }, async (dataSource, simulator) => {
      const all = simulator.expectedEvents('asana-test');
      const query = { ...NO_FILTER, fromMs: all[200]!.occurredAtMs, toMs: all[600]!.occurredAtMs };
      const inside = all.filter((event) => event.occurredAtMs >= query.fromMs && event.occurredAtMs < query.toMs);
      for (const direction of ['DESC', 'ASC'] as const) {
        expect(ids((await readAll(dataSource, direction, query, 50)).events)).toEqual(ids(inside));
      }
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
  it('pushes single-valued filters down, so the upstream returns only matches', async () => {
    await withSource({ size: 1000 }, async (dataSource, simulator) => {
      const all = simulator.expectedEvents('asana-test');
      const system = await readAll(dataSource, 'DESC', { ...NO_FILTER, actorTypes: ['SYSTEM'] }, 100);
      expect(ids(system.events)).toEqual(ids(all.filter((event) => event.actor.type === 'SYSTEM')));
      const deleted = await readAll(dataSource, 'ASC', { ...NO_FILTER, actions: ['task_deleted'] }, 100);
      expect(ids(deleted.events)).toEqual(ids(all.filter((event) => event.action === 'task_deleted')));
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

  it('refuses a next_page without an offset, and serves a page with a record missing its gid, counting that record', async () => {
    await withSource({}, async (dataSource, simulator) => {
      simulator.control.inject({ kind: 'status', status: 200, json: { data: [], next_page: { path: '/x' } } });
      expect((await failure(list(dataSource, 'ASC', null))).code).toBe(ErrorCode.UpstreamMalformedResponse);
      const [good] = simulator.expectedEvents('asana-test');
      const { gid: _dropped, ...withoutGid } = good!.raw;
      simulator.control.inject({ kind: 'status', status: 200, json: { data: [good!.raw, withoutGid], next_page: null } });
      const served = await list(dataSource, 'ASC', null);
      expect(served.events.map((event) => event.sourceEventId)).toEqual([good!.sourceEventId]);
      expect(served.unusableRecords).toBe(1);
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
