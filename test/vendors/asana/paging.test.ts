import type { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../../src/errors';
import { asanaModule } from '../../../src/vendors/asana';
import { dataSourceFor } from '../../helpers/datasource';
import type { SourceQuery } from '../../../src/sources/data-source';
import { windowQuery } from '../../../src/sources/data-source';
import {
  WINDOW_CAP,
  afterOverflow,
  afterWindow,
  clampLimit,
  descResumeJson,
  isoOf,
  nextWidth,
  overflows,
  ascResumeSchema,
  asanaResumeSchema,
  descResumeSchema,
  pushDown,
  windowStart,
  windowTarget,
  type DescResume,
} from '../../../src/vendors/asana/paging';
import { UNKNOWN_EVENT_TYPE } from '../../../src/vendors/asana/normalize';

const NO_FILTER: SourceQuery = windowQuery(null, null);

describe('pushDown', () => {
  it('sends nothing for an unfiltered query', () => {
    expect(pushDown(NO_FILTER)).toEqual({});
  });

  it('pushes down single-valued filters as the matching parameters', () => {
    expect(pushDown({ ...NO_FILTER, actions: ['task_deleted'], actorIds: ['12'], targetIds: ['34'] })).toEqual({ event_type: 'task_deleted', actor_gid: '12', resource_gid: '34' });
  });

  it('leaves multi-valued filters to the gateway', () => {
    expect(pushDown({ ...NO_FILTER, actions: ['a', 'b'], actorIds: ['1', '2'], actorTypes: ['SYSTEM', 'ANONYMOUS'], targetIds: ['3', '4'] })).toEqual({});
  });

  it.each([
    ['SYSTEM', 'asana'],
    ['VENDOR_SUPPORT', 'asana_support'],
    ['ANONYMOUS', 'anonymous'],
  ] as const)('asks for actor_type %s as %s, a kind of actor without an id', (type, param) => {
    expect(pushDown({ ...NO_FILTER, actorTypes: [type] })).toEqual({ actor_type: param });
  });

  it.each([
    // Two Asana actor types produce it.
    ['USER'],
    // A `user` with a service account token: `actor_type=user` would be a superset, and Asana
    // documents `actor_type` only for actors without an id.
    ['SERVICE_ACCOUNT'],
    // Events without an actor, or of an actor type Asana adds later: no parameter names them.
    ['UNKNOWN'],
    ['API_KEY'],
  ] as const)('never pushes %s down', (type) => {
    expect(pushDown({ ...NO_FILTER, actorTypes: [type] })).toEqual({});
  });

  it('never asks for the action of events without event_type', () => {
    expect(pushDown({ ...NO_FILTER, actions: [UNKNOWN_EVENT_TYPE] })).toEqual({});
  });

  it('never sends actor_type together with actor_gid', () => {
    expect(pushDown({ ...NO_FILTER, actorIds: ['12'], actorTypes: ['SYSTEM'] })).toEqual({ actor_gid: '12' });
  });
});

describe('limits and targets', () => {
  it('clamps page sizes to 1-100', () => {
    expect([0, 1, 37, 100, 1000, Number.NaN].map(clampLimit)).toEqual([1, 1, 37, 100, 100, 100]);
  });

  it('aims windows at several pages but keeps them under the cap', () => {
    expect([1, 10, 37, 100].map(windowTarget)).toEqual([80, 80, 111, 300]);
    expect(windowTarget(100)).toBeLessThan(WINDOW_CAP);
  });

  it('writes times as ISO 8601 with milliseconds', () => {
    expect(isoOf(Date.UTC(2026, 10, 1, 0, 0, 0, 5))).toBe('2026-11-01T00:00:00.005Z');
  });
});

describe('window steps', () => {
  it('never starts a window below the floor', () => {
    expect(windowStart({ e: 1000, w: 500, f: 800 })).toBe(800);
    expect(windowStart({ e: 1000, w: 100, f: 0 })).toBe(900);
  });

  it('grows after an empty window and shrinks after a full one, within bounds', () => {
    expect(nextWidth(100, 0, 80)).toBe(800);
    expect(nextWidth(100, 160, 80)).toBe(50);
    expect(nextWidth(100, 10_000, 80)).toBe(13);
    expect(nextWidth(1, 10_000, 80)).toBe(1);
  });

  it('steps down to the next window and stops at the floor', () => {
    expect(afterWindow({ e: 1000, w: 100, f: 0 }, 900, 80, 80)).toEqual({ e: 900, w: 100, f: 0 });
    expect(afterWindow({ e: 1000, w: 100, f: 900 }, 900, 80, 80)).toBeNull();
  });

  it('bisects towards a window found too full instead of growing back into it', () => {
    const abandoned = afterOverflow({ e: 10_000, w: 10_000, f: 0 }, 0, 100, 10, 80);
    expect(abandoned).toEqual({ e: 10_000, w: 156, f: 0, x: 0 });
    // The top of that window was empty: the next one may grow, but only to half the region left.
    // Its width is a guess (`g`): a projection far past what an overgrown window holds does not abandon it.
    expect(afterWindow(abandoned, 9_844, 0, 80)).toEqual({ e: 9_844, w: 1248, f: 0, x: 0, g: 1 });
    expect(afterWindow({ e: 100, w: 50, f: 0, x: 49 }, 50, 0, 80)).toEqual({ e: 50, w: 400, f: 0, g: 1 });
    // A window with events has measured the density: the bisection is over, the width trusted.
    expect(afterWindow({ e: 10_000, w: 100, f: 0, x: 0, g: 1 }, 9_900, 40, 80)).toEqual({ e: 9_900, w: 200, f: 0 });
  });

  it('abandons a window that would hold more than the cap, never a 1 ms one', () => {
    expect(overflows(100, 10, 1000)).toBe(true);
    expect(overflows(100, 900, 1000)).toBe(false);
    expect(overflows(WINDOW_CAP, 1000, 1000)).toBe(true);
    expect(overflows(10_000, 1, 1)).toBe(false);
  });

  it('abandons a window whose width is a guess early only when its density could hold across it', () => {
    // Grown 8 times too wide over dense events: abandoned after one page, as any window.
    expect(overflows(100, 10, 1000, true)).toBe(true);
    // A burst at the bottom of a quiet month: read on to the cap, where it may well end.
    expect(overflows(100, 10, 1_000_000, true)).toBe(false);
    expect(overflows(100, 10, 1_000_000, false)).toBe(true);
    expect(overflows(WINDOW_CAP, 10, 1_000_000, true)).toBe(true);
  });
});

/** `value` as `schema` reads it, or null when the schema refuses it. */
function read<T>(schema: z.ZodType<T>, value: unknown): T | null {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

describe('resume states', () => {
  it('round-trips newest-first states through JSON', () => {
    const states: DescResume[] = [{ e: 10, w: 2, f: 1 }, { e: 10, w: 1, f: 1, o: 'tok' }, { e: 10, w: 2, f: 1, x: 3 }, { e: 10, w: 2, f: 1, x: 3, g: 1 }];
    for (const state of states) {
      expect(read(descResumeSchema, JSON.parse(JSON.stringify(descResumeJson(state))))).toEqual(state);
      expect(read(asanaResumeSchema, JSON.parse(JSON.stringify(descResumeJson(state))))).toEqual(state);
    }
  });

  it('reads an oldest-first offset', () => {
    expect(read(ascResumeSchema, { o: 'tok' })).toEqual({ o: 'tok' });
    expect(read(asanaResumeSchema, { o: 'tok' })).toEqual({ o: 'tok' });
  });

  it.each([
    ['oldest first', { c: 'x' }],
    ['oldest first', { o: '' }],
    ['oldest first', 'tok'],
    ['newest first', { e: 1, w: 1, f: 1 }],
    ['newest first', { e: 10, w: 0, f: 1 }],
    ['newest first', { e: 10, w: 1, f: 1, z: 1 }],
    ['newest first', { e: 10, w: 1, f: 1, x: 11 }],
    ['newest first', { e: 10, w: 1, f: 1, x: 0 }],
    ['newest first', { e: 10, w: 1, f: 1, g: 2 }],
    ['newest first', { e: 2 ** 53, w: 1, f: 1 }],
    ['newest first', { e: 10, w: 1, f: 1, o: 7 }],
  ] as const)('reads no %s state from %j', (_name, state) => {
    expect(read(asanaResumeSchema, state)).toBeNull();
  });

  it.each([
    ['oldest first', 'ASC', { c: 'x' }],
    ['oldest first', 'ASC', { o: '' }],
    ['oldest first', 'ASC', 'tok'],
    ['oldest first', 'ASC', { e: 10, w: 1, f: 1 }],
    ['newest first', 'DESC', { e: 1, w: 1, f: 1 }],
    ['newest first', 'DESC', { e: 10, w: 0, f: 1 }],
    ['newest first', 'DESC', { e: 10, w: 1, f: 1, z: 1 }],
    ['newest first', 'DESC', { e: 10, w: 1, f: 1, x: 11 }],
    ['newest first', 'DESC', { o: 'offset-of-the-other-direction' }],
  ] as const)('refuses an unreadable %s state (%j) as UPSTREAM_CURSOR_EXPIRED, never restarting', async (_name, direction, state) => {
    // Nothing listens here: a state is refused before any request.
    const dataSource = dataSourceFor(asanaModule, { baseUrl: 'http://127.0.0.1:9/api/1.0', credentials: { token: 't', workspaceGid: '1' } }, { id: 'asana-main' });
    let error: unknown;
    try {
      await dataSource.listEvents({ direction, query: windowQuery(null, null), resume: state, limit: 10, signal: AbortSignal.timeout(5_000) });
    } catch (caught) {
      error = caught;
    } finally {
      await dataSource.close();
    }
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamCursorExpired);
    expect((error as UpstreamError).sourceId).toBe('asana-main');
  });
});
