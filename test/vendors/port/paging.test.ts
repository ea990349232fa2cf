import type { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { Direction, SourceQuery } from '../../../src/sources/data-source';
import { windowQuery } from '../../../src/sources/data-source';
import { mix } from '../../../src/simulation/random';
import {
  MAX_UPSTREAM_LIMIT,
  pageAsc,
  pageDesc,
  ascResumeSchema,
  descResumeSchema,
  portResumeSchema,
  type AscResume,
  type DescResume,
  type FetchWindow,
  type PagedBatch,
  type UpstreamWindow,
} from '../../../src/vendors/port/paging';

const NO_FILTER: SourceQuery = windowQuery(null, null);

function event(id: string, at: number): AuditEventModel {
  return {
    sourceId: 'port-test',
    vendor: 'port',
    sourceEventId: id,
    action: 'entity.updated',
    category: 'DATA',
    occurredAtMs: at,
    actor: { sourceId: 'port-test', sourceActorId: null, type: 'SYSTEM', name: null, email: null },
    target: null,
    request: null,
    details: null,
    repository: null,
    integrity: null,
    failed: false,
    raw: { identifier: id },
  };
}

/** Times with ties, a millisecond of `burst` events and gaps, oldest first. */
function times(count: number, seed: number, burst = 40): number[] {
  const out: number[] = [];
  let t = 1_700_000_000_000;
  for (let i = 0; out.length < count; i++) {
    const run = i === 7 ? burst : 1 + (mix(seed, i, 1) % 4 === 0 ? mix(seed, i, 2) % 5 : 0);
    for (let j = 0; j < run && out.length < count; j++) out.push(t);
    t += 1 + (mix(seed, i, 3) % 2000);
  }
  return out;
}

/**
 * An in-memory Port: newest `limit` events of the window, newest first, with `from`/`to` either
 * inclusive or exclusive and ties in a different order on every call (Port documents neither).
 * Events whose ids are in `unplaceable` stand for records that cannot be placed: they take their
 * slot in the response, but the datasource cannot make an event of them.
 */
function fakePort(events: AuditEventModel[], inclusive: boolean, unplaceable: ReadonlySet<string> = new Set()): { fetch: FetchWindow; calls: UpstreamWindow[] } {
  const calls: UpstreamWindow[] = [];
  const fetch: FetchWindow = async (window) => {
    calls.push(window);
    const salt = calls.length;
    const inside = events.filter((e) => {
      const t = e.occurredAtMs;
      const afterFrom = window.from === null || (inclusive ? t >= window.from : t > window.from);
      const beforeTo = window.to === null || (inclusive ? t <= window.to : t < window.to);
      return afterFrom && beforeTo;
    });
    const shuffled = inside.map((e, i) => ({ e, k: mix(salt, i, 9) })).sort((x, y) => y.e.occurredAtMs - x.e.occurredAtMs || x.k - y.k);
    const returned = shuffled.slice(0, window.limit).map((x) => x.e);
    return { events: returned.filter((e) => !unplaceable.has(e.sourceEventId)), received: returned.length };
  };
  return { fetch, calls };
}

/** `value` as `schema` reads it, or null when the schema refuses it. */
function read<T>(schema: z.ZodType<T>, value: unknown): T | null {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

async function readAll(fetch: FetchWindow, direction: Direction, query: SourceQuery, limit: number): Promise<AuditEventModel[]> {
  const out: AuditEventModel[] = [];
  let edge: number | null = null;
  let desc: DescResume | null = null;
  let asc: AscResume | null = null;
  for (let guard = 0; guard < 10_000; guard++) {
    const batch: PagedBatch<DescResume | AscResume> = direction === 'DESC' ? await pageDesc(fetch, 'port-test', query, desc, limit) : await pageAsc(fetch, 'port-test', query, asc, limit);
    const batchTimes = batch.events.map((e) => e.occurredAtMs);
    if (batchTimes.length > 0 && edge !== null) {
      if (direction === 'DESC') expect(Math.max(...batchTimes)).toBeLessThanOrEqual(edge);
      else expect(Math.min(...batchTimes)).toBeGreaterThanOrEqual(edge);
    }
    if (batchTimes.length > 0) edge = direction === 'DESC' ? Math.min(...batchTimes) : Math.max(...batchTimes);
    out.push(...batch.events);
    if (batch.next === null) return out;
    // Resume states travel as JSON in cursors.
    if (direction === 'DESC') desc = read(descResumeSchema, JSON.parse(JSON.stringify(batch.next)));
    else asc = read(ascResumeSchema, JSON.parse(JSON.stringify(batch.next)));
    expect(desc ?? asc).not.toBeNull();
  }
  throw new Error('paging never ended');
}

const ids = (events: AuditEventModel[]) => events.map((e) => e.sourceEventId).sort();

describe('Port time-window paging', () => {
  const all = times(600, 5).map((t, i) => event(`e${String(i).padStart(4, '0')}`, t));

  for (const inclusive of [true, false]) {
    for (const direction of ['DESC', 'ASC'] as const) {
      for (const limit of [1, 3, 10, 64]) {
        it(`lists every event once, ${direction}, limit ${limit}, ${inclusive ? 'inclusive' : 'exclusive'} from/to`, async () => {
          const { fetch } = fakePort(all, inclusive);
          const got = await readAll(fetch, direction, NO_FILTER, limit);
          expect(got).toHaveLength(all.length);
          expect(ids(got)).toEqual(ids(all));
        });
      }
      it(`keeps to the window, events on both bounds included, ${direction}, ${inclusive ? 'inclusive' : 'exclusive'}`, async () => {
        const { fetch } = fakePort(all, inclusive);
        const query = { ...NO_FILTER, fromMs: all[100]!.occurredAtMs, toMs: all[400]!.occurredAtMs };
        const expected = all.filter((e) => e.occurredAtMs >= query.fromMs && e.occurredAtMs < query.toMs);
        expect(ids(await readAll(fetch, direction, query, 7))).toEqual(ids(expected));
      });
    }
  }

  it('re-reads a millisecond holding more events than the limit with a larger limit, losing none', async () => {
    const burstAt = all.filter((e) => e.occurredAtMs === all.find((x, i) => i > 0 && x.occurredAtMs === all[i - 1]!.occurredAtMs && all.filter((y) => y.occurredAtMs === x.occurredAtMs).length >= 40)?.occurredAtMs);
    expect(burstAt.length).toBe(40);
    for (const direction of ['DESC', 'ASC'] as const) {
      const { fetch, calls } = fakePort(all, true);
      const got = await readAll(fetch, direction, NO_FILTER, 5);
      expect(ids(got)).toEqual(ids(all));
      expect(calls.some((call) => call.limit >= 40 && call.from === burstAt[0]!.occurredAtMs - 1 && call.to === burstAt[0]!.occurredAtMs + 1)).toBe(true);
    }
  });

  it('reads an over-full millisecond that is also the newest one', async () => {
    const events = Array.from({ length: 25 }, (_, i) => event(`t${i}`, 5_000)).concat([event('old', 4_000)]);
    const { fetch } = fakePort(events, false);
    const batch = await pageDesc(fetch, 'port-test', NO_FILTER, null, 10);
    expect(batch.events).toHaveLength(25);
    expect(batch.next).toEqual({ b: 5_000, n: 25 });
    expect(ids(await readAll(fetch, 'DESC', NO_FILTER, 10))).toEqual(ids(events));
  });

  it('refuses, rather than truncates, a millisecond with more events than Port can return at once', async () => {
    const events = Array.from({ length: MAX_UPSTREAM_LIMIT + 1 }, (_, i) => event(`x${i}`, 9_000));
    for (const direction of ['DESC', 'ASC'] as const) {
      const { fetch } = fakePort(events, true);
      const error = await readAll(fetch, direction, NO_FILTER, 50).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamResponseTooLarge);
      expect((error as UpstreamError).extensions['source']).toBe('port-test');
    }
  });

  it('reads newest first, one read a batch, then moves `to` down to the millisecond it could not finish', async () => {
    const { fetch, calls } = fakePort(all, true);
    const first = await pageDesc(fetch, 'port-test', NO_FILTER, null, 10);
    expect(calls).toEqual([{ from: null, to: null, limit: 10 }]);
    const bound = first.next!.b;
    // The oldest millisecond of a full read may be cut short: it is left whole for the next read.
    expect(bound).toBeLessThanOrEqual(Math.min(...first.events.map((e) => e.occurredAtMs)));
    expect(first.events.some((e) => e.occurredAtMs === bound - 1)).toBe(false);
    expect(all.some((e) => e.occurredAtMs === bound - 1)).toBe(true);
    await pageDesc(fetch, 'port-test', NO_FILTER, first.next, 10);
    expect(calls[1]).toEqual({ from: null, to: bound, limit: 10 + first.next!.n });
  });

  it('finishes an ASC traversal with an open-ended read, so events that arrived meanwhile are listed', async () => {
    const events = [...all];
    const { fetch } = fakePort(events, true);
    const listed: AuditEventModel[] = [];
    let resume: AscResume | null = null;
    for (let round = 0; ; round++) {
      const batch = await pageAsc(fetch, 'port-test', NO_FILTER, resume, 50);
      listed.push(...batch.events);
      if (round === 2) events.push(event('late-1', all.at(-1)!.occurredAtMs + 10), event('late-2', all.at(-1)!.occurredAtMs + 10));
      if (!batch.next) break;
      resume = batch.next;
    }
    expect(ids(listed)).toEqual(ids(events));
  });

  it('counts records that cannot be placed toward a full read, so the events behind them are still listed', async () => {
    // Every fifth record cannot be placed, the newest ones among them: a full read then holds fewer events than `limit`.
    const unplaceable = new Set(all.filter((_, i) => i % 5 === 0 || i >= all.length - 3).map((e) => e.sourceEventId));
    const placeable = all.filter((e) => !unplaceable.has(e.sourceEventId));
    for (const inclusive of [true, false]) {
      for (const direction of ['DESC', 'ASC'] as const) {
        for (const limit of [3, 10]) {
          const { fetch } = fakePort(all, inclusive, unplaceable);
          expect(ids(await readAll(fetch, direction, NO_FILTER, limit))).toEqual(ids(placeable));
        }
      }
    }
  });

  it('does not take a full read of only records that cannot be placed for the end of the log', async () => {
    const events = Array.from({ length: 30 }, (_, i) => event(`r${String(i).padStart(2, '0')}`, 10_000 + i));
    const unplaceable = new Set(events.slice(20).map((e) => e.sourceEventId));
    for (const direction of ['DESC', 'ASC'] as const) {
      const { fetch } = fakePort(events, true, unplaceable);
      expect(ids(await readAll(fetch, direction, NO_FILTER, 10))).toEqual(ids(events.slice(0, 20)));
    }
  });

  it('reads back only resume states it wrote', () => {
    expect(read(descResumeSchema, { b: 5, n: 0 })).toEqual({ b: 5, n: 0 });
    expect(read(descResumeSchema, { b: 5, n: -1 })).toBeNull();
    expect(read(descResumeSchema, { b: '5', n: 0 })).toBeNull();
    expect(read(descResumeSchema, { b: 5, n: 0, x: 1 })).toBeNull();
    expect(read(descResumeSchema, { b: 2 ** 53, n: 0 })).toBeNull();
    expect(read(ascResumeSchema, { a: 1, w: 0, u: null })).toEqual({ a: 1, w: 0, u: null });
    expect(read(ascResumeSchema, { a: 1, w: 0, u: 7 })).toEqual({ a: 1, w: 0, u: 7 });
    expect(read(ascResumeSchema, { a: 1.5, w: 0, u: null })).toBeNull();
    expect(read(ascResumeSchema, { a: 1, w: -1, u: null })).toBeNull();
    expect(read(ascResumeSchema, { a: 1, w: 0 })).toBeNull();
    expect(read(ascResumeSchema, { b: 5, n: 0 })).toBeNull();
    // Cursors already in clients' hands carry exactly these shapes.
    expect(read(portResumeSchema, { b: 5, n: 0 })).toEqual({ b: 5, n: 0 });
    expect(read(portResumeSchema, { a: 1, w: 0, u: null })).toEqual({ a: 1, w: 0, u: null });
    expect(read(portResumeSchema, { b: 5, n: 0, a: 1, w: 0, u: null })).toBeNull();
  });
});
