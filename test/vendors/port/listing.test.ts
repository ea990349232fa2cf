import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { portModule } from '../../../src/vendors/port';
import { startPortSimulator } from '../../../src/vendors/port/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const ids = (events: AuditEventModel[]) => events.map((e) => e.sourceEventId).sort();

describe('Port listing over HTTP', () => {
  it('lists a millisecond of 30 events with limit 5, in both orders', async () => {
    const simulator = await startPortSimulator({ size: 400, seed: 99, endMs: Date.UTC(2026, 3, 1) });
    const dataSource = dataSourceFor(portModule, simulator);
    try {
      const all = simulator.expectedEvents(dataSource.sourceId);
      const perMs = new Map<number, number>();
      for (const event of all) perMs.set(event.occurredAtMs, (perMs.get(event.occurredAtMs) ?? 0) + 1);
      const [burstMs, burstSize] = [...perMs].sort((x, y) => y[1] - x[1])[0]!;
      expect(burstSize).toBeGreaterThanOrEqual(30);
      for (const direction of ['DESC', 'ASC'] as const) {
        const { events } = await readAll(dataSource, direction, NO_FILTER, 5);
        expect(events).toHaveLength(all.length);
        expect(ids(events)).toEqual(ids(all));
        expect(events.filter((e) => e.occurredAtMs === burstMs)).toHaveLength(burstSize);
      }
    } finally {
      await dataSource.close();
      await simulator.stop();
    }
  });

  it('pages 10,000 events newest first at 100 a batch in 105 requests, token exchange included', async () => {
    const simulator = await startPortSimulator({ size: 10_000, seed: 42, endMs: Date.UTC(2026, 10, 1) });
    const dataSource = dataSourceFor(portModule, simulator);
    try {
      const desc = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      expect(desc.events).toHaveLength(10_000);
      expect(desc.requests).toBe(105);
      expect(simulator.control.stats.requests).toBe(105);
      const asc = await readAll(dataSource, 'ASC', NO_FILTER, 100);
      expect(asc.events).toHaveLength(10_000);
      expect(asc.requests).toBeLessThan(160);
    } finally {
      await dataSource.close();
      await simulator.stop();
    }
  });

  it('lists each event once while new activity arrives at the head, and ASC picks the new events up', async () => {
    const simulator = await startPortSimulator({ size: 600, seed: 5, endMs: Date.now() - 60_000, knobs: { appendPerRequest: 2 } });
    const dataSource = dataSourceFor(portModule, simulator);
    try {
      const desc = await readAll(dataSource, 'DESC', NO_FILTER, 25);
      expect(new Set(ids(desc.events)).size).toBe(desc.events.length);
      expect(desc.events.length).toBeGreaterThanOrEqual(600);
      const asc = await readAll(dataSource, 'ASC', NO_FILTER, 25);
      expect(new Set(ids(asc.events)).size).toBe(asc.events.length);
      // Everything that existed when the ASC traversal finished: the open-ended last read sees what arrived on the way.
      expect(asc.events.length).toBe(simulator.dataset.size);
    } finally {
      await dataSource.close();
      await simulator.stop();
    }
  });

  it('finds an event by identifier in one request', async () => {
    const simulator = await startPortSimulator({ size: 200, seed: 1, endMs: Date.UTC(2026, 0, 1) });
    const dataSource = dataSourceFor(portModule, simulator);
    try {
      await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 1, signal: AbortSignal.timeout(5_000) });
      simulator.control.resetStats();
      const wanted = simulator.expectedEvents(dataSource.sourceId)[17]!;
      expect(await dataSource.getEvent(wanted, AbortSignal.timeout(5_000))).toEqual(wanted);
      expect(simulator.control.stats.requests).toBe(1);
    } finally {
      await dataSource.close();
      await simulator.stop();
    }
  });
  it('continues from the states it wrote and refuses any other, or one of the other direction, as UPSTREAM_CURSOR_EXPIRED', async () => {
    const simulator = await startPortSimulator({ size: 200, seed: 3, endMs: Date.UTC(2026, 0, 1) });
    const dataSource = dataSourceFor(portModule, simulator);
    const list = (direction: 'ASC' | 'DESC', resume: unknown) =>
      dataSource.listEvents({ direction, query: NO_FILTER, resume: JSON.parse(JSON.stringify(resume)), limit: 10, signal: AbortSignal.timeout(5_000) });
    try {
      const newest = await list('DESC', null);
      const oldest = await list('ASC', null);
      expect(newest.next).toEqual({ b: expect.any(Number), n: expect.any(Number) });
      expect(oldest.next).toEqual({ a: expect.any(Number), w: expect.any(Number), u: expect.any(Number) });
      await expect(list('DESC', newest.next)).resolves.toMatchObject({ events: expect.any(Array) });
      await expect(list('ASC', oldest.next)).resolves.toMatchObject({ events: expect.any(Array) });
      for (const [direction, resume] of [['ASC', newest.next], ['DESC', oldest.next], ['DESC', { b: 1.5, n: 0 }], ['ASC', { a: 1, w: 0 }], ['DESC', 'b']] as const) {
        const error = await list(direction, resume).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(UpstreamError);
        expect({ direction, resume, code: (error as UpstreamError).code }).toEqual({ direction, resume, code: ErrorCode.UpstreamCursorExpired });
      }
    } finally {
      await dataSource.close();
      await simulator.stop();
    }
  });
});
