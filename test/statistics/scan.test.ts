import { ErrorCode, UpstreamError } from '../../src/errors';
import type { AuditEventModel } from '../../src/models/audit-event';
import type { AuditDataSource, ListEventsRequest, ListEventsResult } from '../../src/sources/data-source';
import { windowQuery } from '../../src/sources/data-source';
import { scanSource } from '../../src/statistics/scan';
import { FakeDataSource, fakeEvent } from '../connection/fake-source';

const T0 = Date.UTC(2026, 0, 1);
const events = (count: number, sameMs = 1) => Array.from({ length: count }, (_, i) => fakeEvent('s', `e${String(i).padStart(4, '0')}`, T0 + Math.floor(i / sameMs)));

/**
 * Batches of `size`, each repeating the events of the one before that share its oldest
 * millisecond (an upstream whose time windows overlap in the millisecond they share, which the
 * monotone-batch contract allows).
 */
class OverlappingSource extends FakeDataSource {
  constructor(private readonly all: AuditEventModel[], private readonly size: number) {
    super('s', all, () => size);
  }
  override async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    this.calls += 1;
    const ordered = [...this.all].sort((a, b) => b.occurredAtMs - a.occurredAtMs || (a.sourceEventId < b.sourceEventId ? 1 : -1));
    const offset = typeof request.resume === 'number' ? request.resume : 0;
    let start = offset;
    while (start > 0 && ordered[start - 1]!.occurredAtMs === ordered[offset - 1]!.occurredAtMs) start -= 1;
    const batch = ordered.slice(start, offset + this.size);
    const next = offset + this.size < ordered.length ? offset + this.size : null;
    return { events: [...batch].reverse(), next, upstreamRequests: 1 };
  }
}

const scan = (dataSource: AuditDataSource, options: Partial<Parameters<typeof scanSource>[0]> = {}) => {
  const seen: string[] = [];
  const outcome = scanSource({
    dataSource,
    query: windowQuery(null, null),
    asOfMs: T0 + 1_000_000,
    matches: () => true,
    maxRequests: 1_000,
    deadlineMs: Infinity,
    now: Date.now,
    signal: new AbortController().signal,
    onEvent: (event) => seen.push(event.sourceEventId),
    ...options,
  });
  return outcome.then((result) => ({ ...result, seen }));
};

describe('scanSource', () => {
  it('reads at the largest page and counts every event once, ties across batches included', async () => {
    const source = new FakeDataSource('s', events(1_000, 7), () => 10_000);
    const result = await scan(source);
    expect(result).toMatchObject({ end: 'DONE', upstreamRequests: 20, eventsScanned: 1_000 });
    expect(new Set(result.seen).size).toBe(1_000);
  });

  it('counts once an event an upstream sends again in the millisecond two batches share', async () => {
    const all = events(300, 4);
    const result = await scan(new OverlappingSource(all, 50));
    expect(result.end).toBe('DONE');
    expect(result.eventsScanned).toBeGreaterThan(300);
    expect(result.seen).toHaveLength(300);
    expect(new Set(result.seen).size).toBe(300);
  });

  it('leaves out events after the snapshot and events the filter does not match', async () => {
    const result = await scan(new FakeDataSource('s', events(100), () => 50), { asOfMs: T0 + 59, matches: (event) => event.sourceEventId.endsWith('0') });
    expect(result.seen.sort()).toEqual(['e0000', 'e0010', 'e0020', 'e0030', 'e0040', 'e0050']);
  });

  it('stops before a batch beyond its request budget or its deadline, and reports a failure as FAILED', async () => {
    expect(await scan(new FakeDataSource('s', events(1_000), () => 50), { maxRequests: 3 })).toMatchObject({ end: 'BUDGET', upstreamRequests: 3 });
    expect(await scan(new FakeDataSource('s', events(1_000), () => 50), { deadlineMs: 0 })).toMatchObject({ end: 'DEADLINE', upstreamRequests: 0 });
    const failing = new FakeDataSource('s', events(1_000), () => 50);
    failing.failNext = 1;
    const failed = await scan(failing);
    expect(failed.end).toBe('FAILED');
    expect(failed.failure).toBeInstanceOf(UpstreamError);
    expect(failed.failure!.code).toBe(ErrorCode.UpstreamUnavailable);
  });
});
