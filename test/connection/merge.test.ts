import { createGatewayCaches } from '../../src/connection/caches';
import type { SourceCursorState } from '../../src/connection/cursor';
import { mergePage, type MergedPage } from '../../src/connection/merge';
import { keyOf } from '../../src/connection/order';
import { SourceStream } from '../../src/connection/source-stream';
import type { AuditEventModel } from '../../src/models/audit-event';
import { windowQuery, type Direction } from '../../src/sources/data-source';
import { FakeDataSource, fakeEvent } from './fake-source';

/** An event of `sourceId` at `t` ms, its id the source's initial and the time unless given. */
function at(sourceId: string, t: number, id = `${sourceId[0]}${t}`): AuditEventModel {
  return fakeEvent(sourceId, id, t);
}

/** A fake upstream over `events` that answers `batch` events a call (fewer when asked for fewer). */
function upstream(sourceId: string, events: AuditEventModel[], batch: number): FakeDataSource {
  return new FakeDataSource(sourceId, events, () => batch);
}

function streamOf(dataSource: FakeDataSource, direction: Direction, options: { state?: SourceCursorState; budget?: number } = {}): SourceStream {
  return new SourceStream({
    dataSource,
    query: windowQuery(null, null),
    direction,
    state: options.state,
    asOfMs: 1_000_000,
    skipThrough: null,
    matches: () => true,
    requestBudget: options.budget ?? 20,
    alone: false,
    cache: createGatewayCaches().batches,
    signal: AbortSignal.timeout(10_000),
  });
}

/**
 * The merged page with each edge's lazy states read, without the batch growth count `g`: a sizing
 * hint that never changes what is listed (test/connection/batch-growth.test.ts covers it).
 */
function plain(page: MergedPage) {
  const withoutGrowth = (states: Record<string, SourceCursorState>) => Object.fromEntries(Object.entries(states).map(([id, { g: _growth, ...state }]) => [id, state]));
  return { ...page, finalStates: withoutGrowth(page.finalStates), edges: page.edges.map((edge) => ({ key: keyOf(edge.event), states: withoutGrowth(edge.states()) })) };
}

describe('mergePage', () => {
  it('lists the events of several sources in one order, each edge with every source state right after it', async () => {
    const alpha = upstream('alpha', [100, 80, 60, 40, 20].map((t) => at('alpha', t)), 2);
    const beta = upstream('beta', [90, 70, 50, 30, 10].map((t) => at('beta', t)), 2);
    const page = await mergePage([streamOf(alpha, 'DESC'), streamOf(beta, 'DESC')], { limit: 6, fetchSize: 6, baseStates: {} });
    // A state's `r` is the resume state of the oldest batch still holding an unlisted event (the
    // fake's offsets: null is the first batch), `k` the last event of the source listed.
    expect(plain(page)).toEqual({
      edges: [
        { key: [100, 'alpha', 'a100'], states: { alpha: { r: null, k: [100, 'a100'] } } },
        { key: [90, 'beta', 'b90'], states: { alpha: { r: null, k: [100, 'a100'] }, beta: { r: null, k: [90, 'b90'] } } },
        { key: [80, 'alpha', 'a80'], states: { alpha: { r: 2, k: [80, 'a80'] }, beta: { r: null, k: [90, 'b90'] } } },
        { key: [70, 'beta', 'b70'], states: { alpha: { r: 2, k: [80, 'a80'] }, beta: { r: 2, k: [70, 'b70'] } } },
        { key: [60, 'alpha', 'a60'], states: { alpha: { r: 2, k: [60, 'a60'] }, beta: { r: 2, k: [70, 'b70'] } } },
        { key: [50, 'beta', 'b50'], states: { alpha: { r: 2, k: [60, 'a60'] }, beta: { r: 2, k: [50, 'b50'] } } },
      ],
      budgetSpent: false,
      finalStates: { alpha: { r: 2, k: [60, 'a60'] }, beta: { r: 2, k: [50, 'b50'] } },
      lastKey: [50, 'beta', 'b50'],
    });
    expect({ alpha: alpha.calls, beta: beta.calls }).toEqual({ alpha: 2, beta: 2 });
  });

  describe('ties (one millisecond, upstream order arbitrary, a tie group cut across batches)', () => {
    const sources = () => ({
      alpha: upstream('alpha', [at('alpha', 60, 'y'), at('alpha', 50, 'y'), at('alpha', 50, 'x'), at('alpha', 50, 'z'), at('alpha', 40, 'w')], 1),
      beta: upstream('beta', [at('beta', 50, 'b'), at('beta', 50, 'a')], 1),
    });

    it('breaks them newest first by source id, then event id, both descending', async () => {
      const { alpha, beta } = sources();
      const page = await mergePage([streamOf(alpha, 'DESC'), streamOf(beta, 'DESC')], { limit: 7, fetchSize: 7, baseStates: {} });
      expect(plain(page)).toEqual({
        edges: [
          { key: [60, 'alpha', 'y'], states: { alpha: { r: 1, k: [60, 'y'] } } },
          { key: [50, 'beta', 'b'], states: { alpha: { r: 1, k: [60, 'y'] }, beta: { r: 1, k: [50, 'b'] } } },
          { key: [50, 'beta', 'a'], states: { alpha: { r: 1, k: [60, 'y'] }, beta: { r: null, k: [50, 'a'], x: 1 } } },
          { key: [50, 'alpha', 'z'], states: { alpha: { r: 1, k: [50, 'z'] }, beta: { r: null, k: [50, 'a'], x: 1 } } },
          { key: [50, 'alpha', 'y'], states: { alpha: { r: 2, k: [50, 'y'] }, beta: { r: null, k: [50, 'a'], x: 1 } } },
          { key: [50, 'alpha', 'x'], states: { alpha: { r: 4, k: [50, 'x'] }, beta: { r: null, k: [50, 'a'], x: 1 } } },
          { key: [40, 'alpha', 'w'], states: { alpha: { r: null, k: [40, 'w'], x: 1 }, beta: { r: null, k: [50, 'a'], x: 1 } } },
        ],
        budgetSpent: false,
        finalStates: { alpha: { r: null, k: [40, 'w'], x: 1 }, beta: { r: null, k: [50, 'a'], x: 1 } },
        lastKey: [40, 'alpha', 'w'],
      });
    });

    it('breaks them oldest first by source id, then event id, both ascending: the exact reverse', async () => {
      const { alpha, beta } = sources();
      const page = await mergePage([streamOf(alpha, 'ASC'), streamOf(beta, 'ASC')], { limit: 7, fetchSize: 7, baseStates: {} });
      expect(plain(page)).toEqual({
        edges: [
          { key: [40, 'alpha', 'w'], states: { alpha: { r: 1, k: [40, 'w'] } } },
          { key: [50, 'alpha', 'x'], states: { alpha: { r: 1, k: [50, 'x'] } } },
          { key: [50, 'alpha', 'y'], states: { alpha: { r: 3, k: [50, 'y'] } } },
          { key: [50, 'alpha', 'z'], states: { alpha: { r: 4, k: [50, 'z'] } } },
          { key: [50, 'beta', 'a'], states: { alpha: { r: 4, k: [50, 'z'] }, beta: { r: null, k: [50, 'a'] } } },
          { key: [50, 'beta', 'b'], states: { alpha: { r: 4, k: [50, 'z'] }, beta: { r: null, k: [50, 'b'], x: 1 } } },
          { key: [60, 'alpha', 'y'], states: { alpha: { r: null, k: [60, 'y'], x: 1 }, beta: { r: null, k: [50, 'b'], x: 1 } } },
        ],
        budgetSpent: false,
        finalStates: { alpha: { r: null, k: [60, 'y'], x: 1 }, beta: { r: null, k: [50, 'b'], x: 1 } },
        lastKey: [60, 'alpha', 'y'],
      });
    });
  });

  it('does not fetch again from a source whose next events cannot win', async () => {
    const alpha = upstream('alpha', [100, 99, 98, 97, 96, 95, 94].map((t) => at('alpha', t)), 2);
    const beta = upstream('beta', [10, 9, 8, 7, 6, 5, 4].map((t) => at('beta', t)), 3);
    const page = await mergePage([streamOf(alpha, 'DESC'), streamOf(beta, 'DESC')], { limit: 5, fetchSize: 5, baseStates: {} });
    expect(plain(page)).toEqual({
      edges: [
        { key: [100, 'alpha', 'a100'], states: { alpha: { r: null, k: [100, 'a100'] } } },
        { key: [99, 'alpha', 'a99'], states: { alpha: { r: 2, k: [99, 'a99'] } } },
        { key: [98, 'alpha', 'a98'], states: { alpha: { r: 2, k: [98, 'a98'] } } },
        { key: [97, 'alpha', 'a97'], states: { alpha: { r: 4, k: [97, 'a97'] } } },
        { key: [96, 'alpha', 'a96'], states: { alpha: { r: 4, k: [96, 'a96'] } } },
      ],
      budgetSpent: false,
      // Beta's first batch is still wholly unlisted: its state is the one that reads it again.
      finalStates: { alpha: { r: 4, k: [96, 'a96'] }, beta: { r: null } },
      lastKey: [96, 'alpha', 'a96'],
    });
    expect({ alpha: alpha.calls, beta: beta.calls }).toEqual({ alpha: 3, beta: 1 });
  });

  it('never fetches from a source whose state says it has nothing more', async () => {
    const alpha = upstream('alpha', [100, 99, 98].map((t) => at('alpha', t)), 2);
    const beta = upstream('beta', [120, 110].map((t) => at('beta', t)), 3);
    const done: SourceCursorState = { r: null, k: [110, 'b110'], x: 1 };
    const page = await mergePage([streamOf(alpha, 'DESC'), streamOf(beta, 'DESC', { state: done })], { limit: 3, fetchSize: 3, baseStates: { beta: done } });
    expect(plain(page)).toEqual({
      edges: [
        { key: [100, 'alpha', 'a100'], states: { alpha: { r: null, k: [100, 'a100'] }, beta: done } },
        { key: [99, 'alpha', 'a99'], states: { alpha: { r: 2, k: [99, 'a99'] }, beta: done } },
        { key: [98, 'alpha', 'a98'], states: { alpha: { r: null, k: [98, 'a98'], x: 1 }, beta: done } },
      ],
      budgetSpent: false,
      finalStates: { alpha: { r: null, k: [98, 'a98'], x: 1 }, beta: done },
      lastKey: [98, 'alpha', 'a98'],
    });
    expect({ alpha: alpha.calls, beta: beta.calls }).toEqual({ alpha: 2, beta: 0 });
  });

  it('drops a failed source from the page, keeping the state it came with, and lists the others', async () => {
    const alpha = upstream('alpha', [100, 80, 60, 40].map((t) => at('alpha', t)), 2);
    const beta = upstream('beta', [90, 70, 50, 30, 10].map((t) => at('beta', t)), 2);
    beta.failNext = 1;
    const before: SourceCursorState = { r: 2, k: [70, 'b70'] };
    const betaStream = streamOf(beta, 'DESC', { state: before });
    const page = await mergePage([streamOf(alpha, 'DESC'), betaStream], { limit: 3, fetchSize: 3, baseStates: { beta: before } });
    expect(plain(page)).toEqual({
      edges: [
        { key: [100, 'alpha', 'a100'], states: { alpha: { r: null, k: [100, 'a100'] }, beta: before } },
        { key: [80, 'alpha', 'a80'], states: { alpha: { r: 2, k: [80, 'a80'] }, beta: before } },
        { key: [60, 'alpha', 'a60'], states: { alpha: { r: 2, k: [60, 'a60'] }, beta: before } },
      ],
      budgetSpent: false,
      finalStates: { alpha: { r: 2, k: [60, 'a60'] }, beta: before },
      lastKey: [60, 'alpha', 'a60'],
    });
    expect({ code: betaStream.failure?.code, calls: beta.calls }).toEqual({ code: 'UPSTREAM_UNAVAILABLE', calls: 1 });
  });

  it('stops when a source spends its request budget before its next event is settled', async () => {
    const alpha = upstream('alpha', [100, 90, 80, 70].map((t) => at('alpha', t)), 2);
    const stream = streamOf(alpha, 'DESC', { budget: 1 });
    const page = await mergePage([stream], { limit: 3, fetchSize: 3, baseStates: {} });
    // 90 closes the first batch: a later batch might hold another event of that millisecond.
    expect(plain(page)).toEqual({
      edges: [{ key: [100, 'alpha', 'a100'], states: { alpha: { r: null, k: [100, 'a100'] } } }],
      budgetSpent: true,
      finalStates: { alpha: { r: null, k: [100, 'a100'] } },
      lastKey: [100, 'alpha', 'a100'],
    });
    expect({ calls: alpha.calls, spent: stream.budgetSpent }).toEqual({ calls: 1, spent: true });
  });

  it("stops when a source that spent its budget might still hold an event before the others' next one", async () => {
    const alpha = upstream('alpha', [100, 90, 80, 70].map((t) => at('alpha', t)), 4);
    const beta = upstream('beta', [95, 85, 75].map((t) => at('beta', t)), 1);
    const page = await mergePage([streamOf(alpha, 'DESC'), streamOf(beta, 'DESC', { budget: 1 })], { limit: 4, fetchSize: 4, baseStates: {} });
    expect(plain(page)).toEqual({
      edges: [{ key: [100, 'alpha', 'a100'], states: { alpha: { r: null, k: [100, 'a100'] } } }],
      budgetSpent: true,
      finalStates: { alpha: { r: null, k: [100, 'a100'] }, beta: { r: null } },
      lastKey: [100, 'alpha', 'a100'],
    });
  });

  it('hands events to onEvent in order instead of listing them, until it has enough', async () => {
    const alpha = upstream('alpha', [100, 80, 60, 40].map((t) => at('alpha', t)), 4);
    const beta = upstream('beta', [90, 70].map((t) => at('beta', t)), 4);
    const seen: string[] = [];
    const onEvent = (event: AuditEventModel) => seen.push(event.sourceEventId) === 3;
    const page = await mergePage([streamOf(alpha, 'DESC'), streamOf(beta, 'DESC')], { limit: 10, fetchSize: 10, baseStates: {}, onEvent });
    expect({ page: plain(page), seen }).toEqual({
      page: { edges: [], budgetSpent: false, finalStates: { alpha: { r: null, k: [80, 'a80'] }, beta: { r: null, k: [90, 'b90'] } }, lastKey: [80, 'alpha', 'a80'] },
      seen: ['a100', 'b90', 'a80'],
    });
  });

  it('gives an empty page over no streams', async () => {
    expect(await mergePage([], { limit: 5, fetchSize: 5, baseStates: { alpha: { r: 3 } } })).toEqual({ edges: [], budgetSpent: false, finalStates: { alpha: { r: 3 } }, lastKey: null });
  });
});
