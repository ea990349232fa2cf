import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionDeps } from '../../src/connection/events-connection';
import type { ListEventsRequest, ListEventsResult } from '../../src/sources/data-source';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

const T0 = 1_700_000_000_000;

/** An upstream that answers fixed batches of these instants, newest first as it claims. */
class MisorderingSource extends FakeDataSource {
  private readonly fixed: ReturnType<typeof fakeEvent>[][];

  constructor(batches: number[][]) {
    super('s0', [], () => 2);
    this.fixed = batches.map((batch) => batch.map((t) => fakeEvent('s0', `e${t}`, T0 + t)));
  }

  override async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    this.calls += 1;
    const index = typeof request.resume === 'number' ? request.resume : 0;
    return { events: this.fixed[index]!, next: index + 1 < this.fixed.length ? index + 1 : null, upstreamRequests: 1 };
  }
}

function deps(batches: number[][]): EventConnectionDeps {
  return {
    sources: registryOf([new MisorderingSource(batches)]),
    cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }),
    caches: createGatewayCaches(),
    scanBudgetRequests: 5,
    cursorScope: '',
    settleWindowMs: 0,
    signal: AbortSignal.timeout(10_000),
  };
}

describe('an upstream batch holding an event before the furthest time already seen', () => {
  it('lists the event in its place when nothing after it was listed yet', async () => {
    // 95 comes with the second batch, before 90 (the first batch's edge, unsettled) was listed.
    const page = await loadEventConnection({ first: 5 }, deps([[100, 90], [95, 80], [70, 60]]));
    expect(page.edges.map((edge) => edge.node.sourceEventId)).toEqual(['e100', 'e95', 'e90', 'e80', 'e70']);
    expect(page.warnings).toEqual([]);
  });

  it('counts it as unusable, with a warning naming the source, once the traversal has passed its place', async () => {
    // 105 comes with the second batch, after 100 was listed.
    const page = await loadEventConnection({ first: 5 }, deps([[100, 90], [105, 80], [70, 60]]));
    expect(page.edges.map((edge) => edge.node.sourceEventId)).toEqual(['e100', 'e90', 'e80', 'e70', 'e60']);
    expect(page.sourceStatuses[0]).toMatchObject({ unusableRecords: 1 });
    expect(page.warnings).toEqual([expect.objectContaining({ code: 'UNUSABLE_RECORDS', source: 's0', count: 1 })]);
  });
});
