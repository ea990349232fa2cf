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
});
