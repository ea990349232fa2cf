import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, Direction, SourceQuery } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { agilicusModule } from '../../../src/vendors/agilicus';
import { parseAgilicusId } from '../../../src/vendors/agilicus/normalize';
import type { AgilicusSimulatorOptions } from '../../../src/vendors/agilicus/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { startVendorSimulator } from '../../../src/vendors/simulators';

const END_MS = Date.UTC(2026, 5, 1);

/** Starts a simulator with Agilicus-only options and a datasource on it; stops both after `body`. */
async function withSource(
  options: Partial<AgilicusSimulatorOptions> & { size: number },
  body: (dataSource: AuditDataSource, simulator: RunningSimulator) => Promise<void>,
  credentials?: Record<string, string>,
): Promise<void> {
  const startOptions: AgilicusSimulatorOptions = { seed: 7, endMs: END_MS, ...options };
  const simulator = await startVendorSimulator(agilicusModule.vendor, startOptions);
  const dataSource = dataSourceFor(agilicusModule, simulator, credentials ? { credentials } : {});
  try {
    await body(dataSource, simulator);
  } finally {
    await dataSource.close();
    await simulator.stop();
  }
}

/** True for the id of a record's 2nd, 3rd … identical copy. */
function isCopy(event: AuditEventModel): boolean {
  return (parseAgilicusId(event.sourceEventId)?.copy ?? 0) > 0;
}

function ids(events: readonly AuditEventModel[]): string[] {
  return events.map((event) => `${event.occurredAtMs}|${event.sourceEventId}`).sort();
}

function list(dataSource: AuditDataSource, direction: Direction = 'DESC', query: SourceQuery = NO_FILTER, limit = 10) {
  return dataSource.listEvents({ direction, query, resume: null, limit, signal: AbortSignal.timeout(10_000) });
}

describe('AgilicusDataSource paging at a shared timestamp', () => {
  for (const direction of ['DESC', 'ASC'] as const) {
    it(`lists 300 records of each endpoint on one millisecond exactly once, ${direction}, 10 a page`, async () => {
      await withSource({ size: 600, tieRate: 1 }, async (dataSource, simulator) => {
        const expected = simulator.expectedEvents(dataSource.sourceId);
        expect(new Set(expected.map((event) => event.occurredAtMs)).size).toBe(1);
        const { events, requests } = await readAll(dataSource, direction, NO_FILTER, 10);
        expect(events).toHaveLength(600);
        expect(ids(events)).toEqual(ids(expected));
        // Per endpoint: a page of one ms cannot show the upstream's order, so one read asks what
        // lies above it; then a page at the top, one read of the whole ms, one finding nothing below.
        expect(requests).toBeLessThanOrEqual(10);
      });
    });
  }

  it('refuses, rather than cuts, a millisecond holding more records than the largest limit', async () => {
    await withSource({ size: 10_010, tieRate: 1 }, async (dataSource) => {
      const error = await readAll(dataSource, 'DESC', NO_FILTER, 10).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamResponseTooLarge);
      expect((error as UpstreamError).extensions['source']).toBe(dataSource.sourceId);
    });
  });

  it('keeps batches monotone and complete across bursts, copies and both endpoints, at every limit', async () => {
    await withSource({ size: 2000, burstRate: 0.2 }, async (dataSource, simulator) => {
      const expected = simulator.expectedEvents(dataSource.sourceId);
      expect(expected.some(isCopy)).toBe(true);
      for (const limit of [10, 33, 250, 5000]) {
        for (const direction of ['DESC', 'ASC'] as const) {
          const { events } = await readAll(dataSource, direction, NO_FILTER, limit);
          expect(ids(events)).toEqual(ids(expected));
        }
      }
    });
  }, 120_000);

  it('does not depend on the upstream order: an oldest-first upstream gives the same events', async () => {
    await withSource({ size: 1500, oldestFirst: true }, async (dataSource, simulator) => {
      const expected = ids(simulator.expectedEvents(dataSource.sourceId));
      for (const direction of ['DESC', 'ASC'] as const) {
        for (const limit of [10, 100]) expect(ids((await readAll(dataSource, direction, NO_FILTER, limit)).events)).toEqual(expected);
      }
    });
  });

  it('needs 4 requests for 10,000 events newest first at the largest limit', async () => {
    await withSource({ size: 10_000 }, async (dataSource) => {
      const { events, requests } = await readAll(dataSource, 'DESC', NO_FILTER, 5000);
      expect(events).toHaveLength(10_000);
      expect(requests).toBe(4);
    });
  });

  it('reads both endpoints at once for the first newest-first batch, one after the other later', async () => {
    await withSource({ size: 2_000 }, async (dataSource, simulator) => {
      // Latency only makes the two requests overlap when they are sent together.
      simulator.control.knobs.latencyMs = 30;
      simulator.control.resetStats();
      const first = await list(dataSource, 'DESC', NO_FILTER, 50);
      expect(first.upstreamRequests).toBe(2);
      expect(simulator.control.stats.maxInFlight).toBe(2);

      simulator.control.resetStats();
      const second = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: first.next, limit: 50, signal: AbortSignal.timeout(10_000) });
      expect(second.upstreamRequests).toBe(2);
      // The second read is narrowed to the range the first one covers.
      expect(simulator.control.stats.maxInFlight).toBe(1);

      simulator.control.resetStats();
      await list(dataSource, 'ASC', NO_FILTER, 50);
      // Oldest first probes from the far side: never both endpoints blind at once.
      expect(simulator.control.stats.maxInFlight).toBe(1);
    });
  });

  it('reports a failure of a batch read at once only when both endpoints are done, leaving nothing in the background', async () => {
    await withSource({ size: 500 }, async (dataSource, simulator) => {
      simulator.control.knobs.errorRate = 1;
      const error = await list(dataSource, 'DESC', NO_FILTER, 50).catch((e: unknown) => e);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamUnavailable);
      simulator.control.knobs.errorRate = 0;
      const settled = simulator.control.stats.requests;
      // Each endpoint tried 1 + 2 retries, and nothing of the failed batch goes on in the background.
      expect(settled).toBe(6);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(simulator.control.stats.requests).toBe(settled);
    });
  });

  it('never leaves a request of a failed batch to take the fault meant for the next call', async () => {
    // An endpoint read aborted when the other failed could leave a request on the wire that the
    // upstream only served after the call had failed; it then took the next call's injected fault.
    await withSource({ size: 500 }, async (dataSource, simulator) => {
      for (let round = 0; round < 40; round++) {
        simulator.control.knobs.errorRate = 1;
        const failed = await list(dataSource, 'DESC', NO_FILTER, 10).catch((e: unknown) => e);
        simulator.control.knobs.errorRate = 0;
        expect((failed as UpstreamError).code).toBe(ErrorCode.UpstreamUnavailable);
        await simulator.control.idle();
        simulator.control.inject({ kind: 'invalid-json' });
        const error = await list(dataSource, 'DESC', NO_FILTER, 10).catch((e: unknown) => e);
        expect({ round, code: (error as UpstreamError | undefined)?.code }).toEqual({ round, code: ErrorCode.UpstreamMalformedResponse });
        await simulator.control.idle();
      }
    });
  }, 60_000);

  it('answers a resume state made for the other direction with UPSTREAM_CURSOR_EXPIRED', async () => {
    await withSource({ size: 200 }, async (dataSource) => {
      const first = await list(dataSource, 'DESC');
      const error = await dataSource
        .listEvents({ direction: 'ASC', query: NO_FILTER, resume: first.next, limit: 10, signal: AbortSignal.timeout(5000) })
        .catch((caught: unknown) => caught);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamCursorExpired);
    });
  });
});

describe('AgilicusDataSource records of both endpoints', () => {
  it('merges authentication records into the stream as AUTHENTICATION events', async () => {
    await withSource({ size: 400 }, async (dataSource, simulator) => {
      const { events } = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      const auth = events.filter((event) => event.sourceEventId.startsWith('auth:'));
      const audit = events.filter((event) => event.sourceEventId.startsWith('audit:'));
      expect(auth).toHaveLength(200);
      expect(audit).toHaveLength(200);
      expect(auth.every((event) => event.category === 'AUTHENTICATION' && /^[^:]+:[^:]+$/.test(event.action))).toBe(true);
      expect(auth.some((event) => event.failed === true)).toBe(true);
      expect(simulator.control.stats.byRoute.get('GET /v1/auth_audits')).toBeGreaterThan(0);
    });
  });

  it('finds auth records and identical copies again by reference', async () => {
    await withSource({ size: 2000, burstRate: 0.3 }, async (dataSource, simulator) => {
      const expected = simulator.expectedEvents(dataSource.sourceId);
      const copy = expected.find((event) => event.sourceEventId.startsWith('auth:') && isCopy(event));
      const auth = expected.find((event) => event.sourceEventId.startsWith('auth:'));
      for (const wanted of [copy, auth]) {
        expect(wanted).toBeDefined();
        const found = await dataSource.getEvent({ sourceEventId: wanted!.sourceEventId, occurredAtMs: wanted!.occurredAtMs }, AbortSignal.timeout(5000));
        expect(found).toEqual(wanted);
      }
      expect(await dataSource.getEvent({ sourceEventId: 'nope:123', occurredAtMs: END_MS }, AbortSignal.timeout(5000))).toBeNull();
    });
  });

  it('does not read auth records for an action that only audit records can have', async () => {
    await withSource({ size: 400 }, async (dataSource, simulator) => {
      simulator.control.resetStats();
      const query = { ...NO_FILTER, actions: ['DELETE'] };
      const { events } = await readAll(dataSource, 'DESC', query, 100);
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((event) => event.action === 'DELETE')).toBe(true);
      expect(simulator.control.stats.byRoute.get('GET /v1/auth_audits')).toBeUndefined();
    });
  });

  it('pushes a client id down to auth records and a target id down to audit records', async () => {
    await withSource({ size: 400 }, async (dataSource, simulator) => {
      const expected = simulator.expectedEvents(dataSource.sourceId).filter((event) => event.target?.sourceTargetId === 'wiki-client');
      const { events } = await readAll(dataSource, 'ASC', { ...NO_FILTER, targetIds: ['wiki-client'] }, 50);
      expect(ids(events)).toEqual(ids(expected));
    });
  });

  it('makes no request for an email filter, which no Agilicus record can match', async () => {
    await withSource({ size: 100 }, async (dataSource) => {
      const result = await list(dataSource, 'DESC', { ...NO_FILTER, actorEmails: ['alice@example.com'] });
      expect(result).toEqual({ events: [], next: null, upstreamRequests: 0 });
    });
  });

  it('reports an organisation the token may not read as UPSTREAM_AUTH_FAILED', async () => {
    let token = '';
    await withSource({ size: 100 }, async (_dataSource, simulator) => {
      token = simulator.credentials['token']!;
      const foreign = dataSourceFor(agilicusModule, simulator, { id: 'foreign-org', credentials: { token, orgId: 'SomeoneElsesOrg0000000' } });
      try {
        const error = await list(foreign).catch((caught: unknown) => caught);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamAuthFailed);
        expect((error as UpstreamError).httpStatus).toBe(403);
      } finally {
        await foreign.close();
      }
    });
  });
});
