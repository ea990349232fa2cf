import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionDeps } from '../../src/connection/events-connection';
import type { AuditEventModel } from '../../src/models/audit-event';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000;

/** One source whose event list the test changes between pages, and a clock the test moves. */
function setup(settleWindowMs: number) {
  const events: AuditEventModel[] = Array.from({ length: 30 }, (_, i) => fakeEvent('s0', `e${i}`, T0 - (30 - i) * MINUTE));
  const source = new FakeDataSource('s0', events, () => 7);
  const registry = registryOf([source]);
  const clock = { now: T0 };
  const deps: EventConnectionDeps = {
    sources: registry,
    cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 86_400 }),
    caches: createGatewayCaches(),
    scanBudgetRequests: 20,
    cursorScope: '',
    settleWindowMs,
    signal: AbortSignal.timeout(10_000),
    now: () => clock.now,
  };
  return { events, deps, clock };
}

/** Pages oldest first from `after` to the end of the snapshot; returns the ids and the tail cursor. */
async function follow(deps: EventConnectionDeps, after: string | null): Promise<{ ids: string[]; tail: string }> {
  const ids: string[] = [];
  let cursor = after;
  for (let guard = 0; guard < 100; guard++) {
    const page = await loadEventConnection({ first: 4, after: cursor, orderBy: { direction: 'ASC' } }, deps);
    ids.push(...page.edges.map((edge) => edge.node.sourceEventId));
    expect(page.pageInfo.endCursor).not.toBeNull();
    cursor = page.pageInfo.endCursor;
    if (!page.pageInfo.hasNextPage) return { ids, tail: cursor! };
  }
  throw new Error('traversal did not end');
}

describe('following an oldest-first traversal past its end (tail cursors)', () => {
  it('lists what arrived after the end exactly once, and nothing when nothing arrived', async () => {
    const { events, deps, clock } = setup(0);
    const first = await follow(deps, null);
    expect(first.ids).toEqual(events.map((event) => event.sourceEventId));

    clock.now += MINUTE;
    const quiet = await follow(deps, first.tail);
    expect(quiet.ids).toEqual([]);

    events.push(fakeEvent('s0', 'new-1', clock.now - 10), fakeEvent('s0', 'new-2', clock.now - 5));
    clock.now += MINUTE;
    const next = await follow(deps, quiet.tail);
    expect(next.ids).toEqual(['new-1', 'new-2']);
    const again = await follow(deps, next.tail);
    expect(again.ids).toEqual([]);
  });

  it('keeps the snapshot inside a traversal: an event arriving mid-way waits for the tail', async () => {
    const { events, deps, clock } = setup(0);
    const page = await loadEventConnection({ first: 10, orderBy: { direction: 'ASC' } }, deps);
    events.push(fakeEvent('s0', 'mid-way', clock.now + 10));
    clock.now += MINUTE;
    const rest = await follow(deps, page.pageInfo.endCursor);
    expect(rest.ids).not.toContain('mid-way');
    expect(rest.ids).toHaveLength(20);
    const tail = await follow(deps, rest.tail);
    expect(tail.ids).toEqual(['mid-way']);
  });
});

describe('late arrivals (docs/reliability.md D3)', () => {
  // An event that the upstream makes visible two minutes after its timestamp, while a client
  // follows the log.
  async function lateArrival(settleWindowMs: number): Promise<string[]> {
    const { events, deps, clock } = setup(settleWindowMs);
    const start = await follow(deps, null);
    const seen = [...start.ids];
    let tail = start.tail;
    for (let step = 0; step < 15; step++) {
      clock.now += MINUTE;
      events.push(fakeEvent('s0', `live-${step}`, clock.now - 1_000));
      if (step === 5) events.push(fakeEvent('s0', 'late', clock.now - 2 * MINUTE));
      const next = await follow(deps, tail);
      seen.push(...next.ids);
      tail = next.tail;
    }
    // Let the window pass with the clock alone, so that everything settles.
    clock.now += settleWindowMs + MINUTE;
    seen.push(...(await follow(deps, tail)).ids);
    return seen;
  }

  it('with a 5-minute settle window, the late event is listed exactly once and nothing else is lost', async () => {
    const seen = await lateArrival(5 * MINUTE);
    expect(seen.filter((id) => id === 'late')).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(30 + 15 + 1);
  });

  it('without one, the same late event is lost: the window is what makes the first test pass', async () => {
    const seen = await lateArrival(0);
    expect(seen).not.toContain('late');
    expect(seen).toHaveLength(30 + 15);
  });

  it('a settle window holds the newest events back from every snapshot', async () => {
    const { events, deps } = setup(5 * MINUTE);
    events.push(fakeEvent('s0', 'just-now', T0 - 1_000));
    const page = await loadEventConnection({ first: 100 }, deps);
    expect(page.asOf.getTime()).toBe(T0 - 5 * MINUTE - 1);
    expect(page.edges.map((edge) => edge.node.sourceEventId)).not.toContain('just-now');
    expect(page.edges[0]!.node.occurredAtMs).toBeLessThanOrEqual(T0 - 5 * MINUTE - 1);
  });
});
