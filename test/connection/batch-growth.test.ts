import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionDeps } from '../../src/connection/events-connection';
import { mergePage } from '../../src/connection/merge';
import { SourceStream } from '../../src/connection/source-stream';
import type { AuditEventModel } from '../../src/models/audit-event';
import { windowQuery, type SourceCapabilities } from '../../src/sources/data-source';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

/** A source that takes pages of up to 1,000 events and filters nothing itself. */
class LargePageSource extends FakeDataSource {
  override readonly capabilities: SourceCapabilities = { ...new FakeDataSource('x', [], () => 1).capabilities, maxPageSize: 1000 };
}

/** A large-page source over `events` that records the limit of every request it gets. */
function recordingLimits(events: AuditEventModel[]): { source: LargePageSource; limits: number[] } {
  const source = new LargePageSource('s0', events, () => 10_000);
  const limits: number[] = [];
  const listEvents = source.listEvents.bind(source);
  source.listEvents = (request) => {
    limits.push(request.limit);
    return listEvents(request);
  };
  return { source, limits };
}

function deps(source: FakeDataSource): EventConnectionDeps {
  return { sources: registryOf([source]), cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }), caches: createGatewayCaches(), scanBudgetRequests: 100, settleWindowMs: 0, cursorScope: '', signal: AbortSignal.timeout(10_000) };
}

describe('batch growth within a page', () => {
  it('reads a sparse match in batches that double, not in page-sized batches', async () => {
    // One event in twenty has the action asked for: a page of 50 needs about 1,000 events read.
    const events = Array.from({ length: 5000 }, (_, i) => ({ ...fakeEvent('s0', `e${i}`, 1_000_000 + i * 10), action: i % 20 === 0 ? 'wanted.action' : 'other.action' }));
    const source = new LargePageSource('s0', events, (call) => 10_000 + call);
    const page = await loadEventConnection({ first: 50, filter: { actions: ['wanted.action'] } }, deps(source));
    expect(page.edges).toHaveLength(50);
    expect(page.edges.every((edge) => edge.node.action === 'wanted.action')).toBe(true);
    // 55, 110, 220, 440, 880 events: five requests (page-sized batches would take nineteen).
    expect(source.calls).toBeLessThanOrEqual(6);
  });

  it('keeps the first batch sized for the page', async () => {
    const events = Array.from({ length: 5000 }, (_, i) => fakeEvent('s0', `e${i}`, 1_000_000 + i * 10));
    const { source, limits } = recordingLimits(events);
    await loadEventConnection({ first: 20 }, deps(source));
    // The page and the event that tells whether there is a next one (21), plus the margin of a source read alone.
    expect(limits).toEqual([24]);
  });

  it('grows batches from page to page: a whole traversal costs about N / 1,000 requests, listing every event once', async () => {
    const events = Array.from({ length: 5000 }, (_, i) => fakeEvent('s0', `e${String(i).padStart(4, '0')}`, 1_000_000 + i * 10));
    const source = new LargePageSource('s0', events, () => 10_000);
    const gateway = deps(source);
    const listed: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await loadEventConnection({ first: 20, ...(after ? { after } : {}) }, gateway);
      listed.push(...page.edges.map((edge) => edge.node.sourceEventId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(listed).toEqual(events.map((event) => event.sourceEventId).reverse());
    // The bound of the performance targets: 3 x ceil(N / min(largest page, 1000)) + 2. Batches
    // sized for each page of 20 would take 5000 / 24, about 210.
    expect(source.calls).toBeLessThanOrEqual(3 * Math.ceil(5000 / 1000) + 2);
  });
});

describe('batch growth under cache pressure', () => {
  it('starts growing afresh when the batch a page left off in was evicted, and still lists every event once', async () => {
    const events = Array.from({ length: 3000 }, (_, i) => fakeEvent('s0', `e${String(i).padStart(4, '0')}`, 1_000_000 + i * 10));
    const { source, limits } = recordingLimits(events);
    const gateway = deps(source);
    const listed: string[] = [];
    let after: string | null = null;
    let page = await loadEventConnection({ first: 20 }, gateway);
    listed.push(...page.edges.map((edge) => edge.node.sourceEventId));
    // Six pages in, batches have grown to eight times a page.
    for (let i = 0; i < 5; i += 1) {
      page = await loadEventConnection({ first: 20, after: page.pageInfo.endCursor! }, gateway);
      listed.push(...page.edges.map((edge) => edge.node.sourceEventId));
    }
    expect(Math.max(...limits)).toBeGreaterThanOrEqual(24 * 8);

    // Other traversals took the room: the next page finds nothing cached.
    limits.length = 0;
    const evicted = { ...gateway, caches: createGatewayCaches() };
    after = page.pageInfo.endCursor;
    page = await loadEventConnection({ first: 20, after: after! }, evicted);
    listed.push(...page.edges.map((edge) => edge.node.sourceEventId));
    // The batch is read again sized for the page, not at its grown size.
    expect(limits[0]).toBe(24);
    for (;;) {
      if (!page.pageInfo.hasNextPage) break;
      page = await loadEventConnection({ first: 20, after: page.pageInfo.endCursor! }, evicted);
      listed.push(...page.edges.map((edge) => edge.node.sourceEventId));
    }
    expect(listed).toEqual(events.map((event) => event.sourceEventId).reverse());
  });
});

describe('a page out of time for reading on', () => {
  it('ends short after one upstream request once its scan time has run out, and the next pages list every match once', async () => {
    // One event in fifty matches: a page of 10 needs about 500 events read, in batches of 11 at first.
    const events = Array.from({ length: 2000 }, (_, i) => ({ ...fakeEvent('s0', `e${String(i).padStart(4, '0')}`, 1_000_000 + i * 10), action: i % 50 === 0 ? 'wanted.action' : 'other.action' }));
    const source = new LargePageSource('s0', events, () => 11);
    const filter = { actions: ['wanted.action'] };
    const outOfTime = { ...deps(source), scanUntilMs: 0 };
    const short = await loadEventConnection({ first: 10, filter }, outOfTime);
    expect(source.calls).toBe(1);
    expect(short.edges.length).toBeLessThan(10);
    expect(short.pageInfo.hasNextPage).toBe(true);

    // With time again, the traversal goes on from where the short page stopped.
    const listed = short.edges.map((edge) => edge.node.sourceEventId);
    const gateway = { ...outOfTime, scanUntilMs: Date.now() + 60_000 };
    let after = short.pageInfo.endCursor!;
    for (;;) {
      const page = await loadEventConnection({ first: 10, filter, after }, gateway);
      listed.push(...page.edges.map((edge) => edge.node.sourceEventId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(listed).toEqual(events.filter((event) => event.action === 'wanted.action').map((event) => event.sourceEventId).reverse());
  });
});

describe('a stream that goes on from where its traversal stopped', () => {
  it('grows its batches from the one it reads again, which holds only listed events: it does not read the largest page as if scanning', async () => {
    const events = Array.from({ length: 3000 }, (_, i) => fakeEvent('s0', `e${String(i).padStart(4, '0')}`, 1_000_000 + i * 10));
    const newestFirst = [...events].reverse();
    const { source, limits } = recordingLimits(events);
    // The traversal listed through offset 150 of a batch that started at offset 100, and that
    // batch is no longer cached: the stream reads it again, small, and finds nothing new in it.
    const lastListed = newestFirst[150]!;
    const stream = new SourceStream({
      dataSource: source,
      query: windowQuery(null, null),
      direction: 'DESC',
      state: { r: 100, k: [lastListed.occurredAtMs, lastListed.sourceEventId] },
      asOfMs: 2_000_000,
      skipThrough: null,
      matches: () => true,
      requestBudget: 20,
      alone: false,
      cache: createGatewayCaches().batches,
      signal: AbortSignal.timeout(10_000),
    });
    const page = await mergePage([stream], { limit: 20, fetchSize: 20, baseStates: {} });
    expect(page.edges.map((edge) => edge.event.sourceEventId)).toEqual(newestFirst.slice(151, 171).map((event) => event.sourceEventId));
    expect(limits[0]).toBe(20);
    // A batch the filter had emptied would justify the largest page (1,000); one of repeats does not.
    expect(limits.slice(1).every((limit) => limit < 1000)).toBe(true);
    expect(limits[1]).toBe(40);
  });
});
