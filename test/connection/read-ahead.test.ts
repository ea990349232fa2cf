import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionDeps } from '../../src/connection/events-connection';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

/** Lets the read-ahead started by a page settle, as a client reading the page would. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const events = Array.from({ length: 400 }, (_, i) => fakeEvent('s0', `e${i}`, 1_000_000 + i * 10));
  const source = new FakeDataSource('s0', events, () => 50);
  const registry = registryOf([source]);
  const deps: EventConnectionDeps = { sources: registry, cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }), caches: createGatewayCaches(), scanBudgetRequests: 20, settleWindowMs: 0, cursorScope: '', signal: AbortSignal.timeout(10_000) };
  return { source, deps, events };
}

describe('read-ahead on pages that continue a traversal', () => {
  it('makes no extra upstream call for a client that reads only the first page', async () => {
    const { source, deps } = setup();
    await loadEventConnection({ first: 40 }, deps);
    const afterFirstPage = source.calls;
    await settle();
    expect(source.calls).toBe(afterFirstPage);
  });

  it('fetches the next batch while the client reads a continuing page, so the next page waits for nothing', async () => {
    const { source, deps, events } = setup();
    const first = await loadEventConnection({ first: 40 }, deps);
    const second = await loadEventConnection({ first: 40, after: first.pageInfo.endCursor }, deps);
    const callsAfterSecond = source.calls;
    await settle();
    // The second page left fewer than a page of events buffered: one batch was read ahead.
    expect(source.calls).toBe(callsAfterSecond + 1);
    const third = await loadEventConnection({ first: 40, after: second.pageInfo.endCursor }, deps);
    expect(third.sourceStatuses[0]!.upstreamRequests).toBe(0);
    const listed = [...first.edges, ...second.edges, ...third.edges].map((edge) => edge.node.sourceEventId);
    expect(listed).toEqual(events.slice().reverse().slice(0, 120).map((event) => event.sourceEventId));
  });

  it('reads nothing ahead while the gateway has no CPU to spare; the next page then fetches for itself and loses nothing', async () => {
    const { source, deps, events } = setup();
    let spare = false;
    const busy: EventConnectionDeps = { ...deps, readAhead: () => spare };
    const first = await loadEventConnection({ first: 40 }, busy);
    const second = await loadEventConnection({ first: 40, after: first.pageInfo.endCursor }, busy);
    const callsAfterSecond = source.calls;
    await settle();
    expect(source.calls).toBe(callsAfterSecond);
    const third = await loadEventConnection({ first: 40, after: second.pageInfo.endCursor }, busy);
    expect(third.sourceStatuses[0]!.upstreamRequests).toBeGreaterThan(0);
    spare = true;
    const callsAfterThird = source.calls;
    await loadEventConnection({ first: 40, after: third.pageInfo.endCursor }, busy);
    const callsAfterFourth = source.calls;
    await settle();
    expect(callsAfterFourth).toBeGreaterThanOrEqual(callsAfterThird);
    expect(source.calls).toBe(callsAfterFourth + 1);
    const listed = [...first.edges, ...second.edges, ...third.edges].map((edge) => edge.node.sourceEventId);
    expect(listed).toEqual(events.slice().reverse().slice(0, 120).map((event) => event.sourceEventId));
  });

  it('drops a failed read-ahead: the next page fetches for itself and loses nothing', async () => {
    const { source, deps, events } = setup();
    const first = await loadEventConnection({ first: 40 }, deps);
    const second = await loadEventConnection({ first: 40, after: first.pageInfo.endCursor }, deps);
    // The read-ahead of the second page is already under way; the next upstream call that fails
    // is the read-ahead of a later page (a page's own failed fetch would be in its errors).
    source.failNext = 1;
    await settle();
    let cursor = second.pageInfo.endCursor;
    const rest: string[] = [];
    for (let guard = 0; guard < 20 && cursor; guard++) {
      const page = await loadEventConnection({ first: 40, after: cursor }, deps);
      expect(page.errors).toEqual([]);
      rest.push(...page.edges.map((edge) => edge.node.sourceEventId));
      cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    }
    expect(source.failNext).toBe(0);
    const listed = [...first.edges, ...second.edges].map((edge) => edge.node.sourceEventId).concat(rest);
    expect(listed).toEqual(events.slice().reverse().map((event) => event.sourceEventId));
  });
});
