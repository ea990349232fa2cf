import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionDeps } from '../../src/connection/events-connection';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

const T0 = 1_700_000_000_000;

function depsOver(source: FakeDataSource, scanBudgetRequests: number): EventConnectionDeps {
  return {
    sources: registryOf([source]),
    cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }),
    caches: createGatewayCaches(),
    scanBudgetRequests,
    cursorScope: '',
    settleWindowMs: 0,
    signal: AbortSignal.timeout(30_000),
  };
}

/** `tied` events at T0, then `after` events one millisecond apart: oldest first, the tie comes first. */
function eventsWithTie(tied: number, after: number) {
  return [
    ...Array.from({ length: tied }, (_, i) => fakeEvent('s0', `tie-${String(i).padStart(3, '0')}`, T0)),
    ...Array.from({ length: after }, (_, i) => fakeEvent('s0', `later-${i}`, T0 + 1 + i)),
  ];
}

describe('events sharing one instant', () => {
  it('lists a tie group larger than one page may read: later pages read it on from the batch cache', async () => {
    // 12 events in one millisecond, read 4 at a time with a budget of 2 requests: the first page
    // lists nothing, the next ones re-read its batches from the cache and go further.
    const deps = depsOver(new FakeDataSource('s0', eventsWithTie(12, 30), () => 5, false), 2);
    const listed: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 200; page++) {
      const connection = await loadEventConnection({ orderBy: { direction: 'ASC' }, first: 1, after }, deps);
      listed.push(...connection.edges.map((edge) => edge.node.sourceEventId));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(listed).toEqual(eventsWithTie(12, 30).map((event) => event.sourceEventId));
  });

  it('fails the source with TIE_GROUP_TOO_LARGE once a page reads ten times its budget inside one instant, instead of empty pages for ever', async () => {
    const deps = depsOver(new FakeDataSource('s0', eventsWithTie(40, 3), () => 1, false), 2);
    let after: string | null = null;
    let pages = 0;
    let connection;
    do {
      connection = await loadEventConnection({ orderBy: { direction: 'ASC' }, first: 5, after }, deps);
      expect(connection.edges).toHaveLength(0);
      after = connection.pageInfo.endCursor;
      pages += 1;
    } while (connection.errors.length === 0 && pages < 50);
    // Every page reads two more batches: the tenth reads twenty, all inside the instant.
    expect(pages).toBe(10);
    expect(connection.sourceStatuses).toEqual([expect.objectContaining({ sourceId: 's0', status: 'FAILED', errorCode: 'TIE_GROUP_TOO_LARGE' })]);
    expect(connection.errors[0]?.message).toMatch(/share one millisecond than a page may read; raise server.scanBudgetRequests/);
  });
});
