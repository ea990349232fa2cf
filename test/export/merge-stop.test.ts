import { createGatewayCaches } from '../../src/connection/caches';
import type { SourceCursorState } from '../../src/connection/cursor';
import { mergePage } from '../../src/connection/merge';
import { compareKeys, keyOf, type EventKey } from '../../src/connection/order';
import { SourceStream } from '../../src/connection/source-stream';
import { windowQuery } from '../../src/sources/data-source';
import { FakeDataSource, fakeEvent } from '../connection/fake-source';

function streamOf(dataSource: FakeDataSource, state?: SourceCursorState): SourceStream {
  return new SourceStream({
    dataSource,
    query: windowQuery(null, null),
    direction: 'DESC',
    state,
    asOfMs: 1_000_000,
    skipThrough: null,
    matches: () => true,
    requestBudget: 1e12,
    alone: false,
    cache: createGatewayCaches().batches,
    signal: AbortSignal.timeout(10_000),
  });
}

describe('mergePage with stopOnFailure, as exports read', () => {
  it('takes nothing after a source fails, so that re-reading it from its state keeps the exact order', async () => {
    const alphaEvents = [100, 95, 80, 61, 60, 40, 33, 20, 5].map((t) => fakeEvent('alpha', `a${t}`, t));
    const betaEvents = [99, 90, 85, 70, 60, 50, 30, 21, 10, 1].map((t) => fakeEvent('beta', `b${t}`, t));
    const alpha = new FakeDataSource('alpha', alphaEvents, () => 2);
    // Beta fails on its second and fifth requests.
    const beta: FakeDataSource = new FakeDataSource('beta', betaEvents, (call) => {
      if (call === 1 || call === 4) beta.failNext = 1;
      return 2;
    });
    const sources = new Map([alpha, beta].map((source) => [source.sourceId, source]));
    let streams = [streamOf(alpha), streamOf(beta)];
    const listed: EventKey[] = [];
    let failures = 0;
    while (streams.length > 0) {
      await mergePage(streams, { limit: 3, fetchSize: 2, baseStates: {}, stopOnFailure: true, onEvent: (event) => (listed.push(keyOf(event)), false) });
      streams = streams
        .filter((stream) => !stream.isExhausted || stream.failure)
        .map((stream) => {
          if (!stream.failure) return stream;
          failures += 1;
          return streamOf(sources.get(stream.sourceId)!, stream.state());
        });
    }
    expect(failures).toBe(2);
    expect(listed).toEqual([...alphaEvents, ...betaEvents].map(keyOf).sort((a, b) => compareKeys(a, b, 'DESC')));
  });
});
