import { ErrorCode, UpstreamError } from '../../src/errors';
import { selectEvents } from '../../src/connection/filter';
import { queryMatcher } from '../../src/sources/query-matcher';
import { compareKeys, keyOf } from '../../src/connection/order';
import type { AuditEventModel } from '../../src/models/audit-event';
import type { AuditDataSource, Direction, FilterField, RecordedField, SourceQuery, SourceResume } from '../../src/sources/data-source';
import { windowQuery } from '../../src/sources/data-source';
import type { VendorModule } from '../../src/sources/vendor-module';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';
import { dataSourceFor } from '../helpers/datasource';
import { startVendorSimulator } from '../../src/vendors/simulators';

/** An unfiltered query. */
export const NO_FILTER: SourceQuery = windowQuery(null, null);

/** Follows `next` to the end; checks the monotone-batch contract on the way. */
export async function readAll(
  dataSource: AuditDataSource,
  direction: Direction,
  query: SourceQuery,
  limit: number,
): Promise<{ events: AuditEventModel[]; requests: number }> {
  const events: AuditEventModel[] = [];
  let resume: SourceResume | null = null;
  let requests = 0;
  let edge: number | null = null;
  for (let guard = 0; guard < 100_000; guard++) {
    const result = await dataSource.listEvents({ direction, query, resume, limit, signal: AbortSignal.timeout(20_000) });
    requests += result.upstreamRequests;
    if (result.events.length > 0) {
      const times = result.events.map((event) => event.occurredAtMs);
      const newest = Math.max(...times);
      const oldest = Math.min(...times);
      if (edge !== null) {
        // Monotone batches: nothing in this batch lies on the wrong side of the previous one.
        if (direction === 'DESC') expect(newest).toBeLessThanOrEqual(edge);
        else expect(oldest).toBeGreaterThanOrEqual(edge);
      }
      edge = direction === 'DESC' ? oldest : newest;
    }
    events.push(...result.events);
    if (result.next === null) return { events, requests };
    resume = result.next;
  }
  throw new Error('listEvents never reached the end');
}

function identity(event: AuditEventModel): string {
  return `${event.occurredAtMs}|${event.sourceEventId}`;
}

/** The events of `all` that the gateway's own filter accepts for `query` on one source. */
function expectedFor(all: readonly AuditEventModel[], query: SourceQuery): string[] {
  return all.filter((event) => matchesQuery(event, query)).map(identity).sort();
}

function matchesQuery(event: AuditEventModel, query: SourceQuery): boolean {
  return queryMatcher(query)(event);
}

/** A query on `field` whose value is taken from the data, so that it matches some events. */
function queryOn(field: FilterField, all: readonly AuditEventModel[]): SourceQuery | null {
  const sample = all[Math.floor(all.length / 3)]!;
  switch (field) {
    case 'window': {
      const from = all[Math.floor(all.length / 4)]!.occurredAtMs;
      const to = all[Math.floor((all.length * 3) / 4)]!.occurredAtMs;
      return { ...NO_FILTER, fromMs: Math.min(from, to), toMs: Math.max(from, to) };
    }
    case 'actions':
      return { ...NO_FILTER, actions: [sample.action] };
    case 'actorIds':
      return sample.actor.sourceActorId ? { ...NO_FILTER, actorIds: [sample.actor.sourceActorId] } : null;
    case 'actorEmails':
      return sample.actor.email ? { ...NO_FILTER, actorEmails: [sample.actor.email.toLowerCase()] } : null;
    case 'actorTypes':
      return { ...NO_FILTER, actorTypes: [sample.actor.type] };
    case 'targetIds': {
      const withTarget = all.find((event) => event.target);
      return withTarget?.target ? { ...NO_FILTER, targetIds: [withTarget.target.sourceTargetId] } : null;
    }
    case 'targetTypes': {
      const withTarget = all.find((event) => event.target);
      return withTarget?.target ? { ...NO_FILTER, targetTypes: [withTarget.target.type] } : null;
    }
    case 'text':
      return null;
    case 'clientIps': {
      // The one form every upstream compares exactly: a single IPv4 address.
      const address = all.map((event) => event.request?.clientIp).find((ip) => ip && /^[0-9.]+$/.test(ip));
      return address ? { ...NO_FILTER, clientIps: [address] } : null;
    }
    case 'sessionIds':
    case 'requestIds':
    case 'traceIds': {
      const part = ({ sessionIds: 'sessionId', requestIds: 'requestId', traceIds: 'traceId' } as const)[field];
      const value = all.map((event) => event.request?.[part]).find((id) => id);
      return value ? { ...NO_FILTER, [field]: [value] } : null;
    }
    case 'userAgents': {
      const agent = all.map((event) => event.request?.userAgent).find((ua) => ua);
      return agent ? { ...NO_FILTER, userAgents: [agent.slice(0, 12).toLowerCase()] } : null;
    }
    case 'failed':
      return all.some((event) => event.failed === true) ? { ...NO_FILTER, failed: true } : null;
    case 'repositoryIds': {
      const repository = all.find((event) => event.repository)?.repository;
      return repository ? { ...NO_FILTER, repositoryIds: [repository.sourceRepositoryId] } : null;
    }
    case 'sourceEventIds':
      return { ...NO_FILTER, sourceEventIds: [sample.sourceEventId] };
    default: {
      const unreachable: never = field;
      return unreachable;
    }
  }
}

/** Options of {@link describeDataSourceContract}. */
export interface ContractOptions {
  /** Events in the simulated data set; default 2,500. */
  size?: number;
  /** Page sizes to read with; default [10, 37, 100]. */
  pageSizes?: number[];
}

/**
 * The contract every vendor datasource must meet, run against the vendor's own simulator over
 * loopback HTTP. Each vendor has a `<vendor>.contract.test.ts` that calls this.
 */
export function describeDataSourceContract(module: VendorModule<Record<string, unknown>>, options: ContractOptions = {}): void {
  const size = options.size ?? 2500;
  describe(`${module.displayName} datasource contract`, () => {
    let simulator: RunningSimulator;
    let dataSource: AuditDataSource;
    let all: AuditEventModel[];

    beforeAll(async () => {
      simulator = await startVendorSimulator(module.vendor, { size, seed: 42, endMs: Date.UTC(2026, 10, 1) });
      dataSource = dataSourceFor(module, simulator);
      all = simulator.expectedEvents(dataSource.sourceId);
    });

    afterAll(async () => {
      await dataSource?.close();
      await simulator?.stop();
    });

    // A datasource that reads several endpoints at once may leave a request it gave up on still
    // being handled; it must not take the fault the next test injects.
    afterEach(() => simulator.control.idle());

    it('has a data set with many events sharing a timestamp', () => {
      expect(all).toHaveLength(size);
      const distinct = new Set(all.map((event) => event.occurredAtMs)).size;
      expect(distinct).toBeLessThan(size * 0.8);
    });

    for (const direction of ['DESC', 'ASC'] as const) {
      for (const limit of options.pageSizes ?? [10, 37, 100]) {
        it(`lists every event exactly once, ${direction}, ${limit} a page`, async () => {
          const { events } = await readAll(dataSource, direction, NO_FILTER, limit);
          const ids = events.map(identity);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort()).toEqual(all.map(identity).sort());
          const sorted = [...events].sort((a, b) => compareKeys(keyOf(a), keyOf(b), direction));
          expect(sorted[0]!.occurredAtMs).toBe(direction === 'DESC' ? Math.max(...all.map((e) => e.occurredAtMs)) : Math.min(...all.map((e) => e.occurredAtMs)));
        });
      }
    }

    it('normalises every event the same way as the ground truth', async () => {
      const { events } = await readAll(dataSource, 'DESC', NO_FILTER, 100);
      const byId = new Map(all.map((event) => [identity(event), event]));
      for (const event of events.slice(0, 200)) expect(event).toEqual(byId.get(identity(event)));
    });

    it('returns exactly the matching events for each filter it pushes down', async () => {
      for (const field of dataSource.capabilities.nativeFilters) {
        const query = queryOn(field, all);
        if (!query) continue;
        const { events } = await readAll(dataSource, 'DESC', query, 100);
        // A datasource may return more than asked (the gateway filters again), never less.
        const returned = events.filter((event) => matchesQuery(event, query)).map(identity).sort();
        const expected = expectedFor(all, query);
        expect(expected.length).toBeGreaterThan(0);
        expect(returned).toEqual(expected);
      }
    });

    it('records exactly the parts of an event it declares, so that NOT_APPLICABLE never hides a match', () => {
      const carries: Record<RecordedField, (event: AuditEventModel) => boolean> = {
        actorEmail: (event) => event.actor.email !== null,
        clientIp: (event) => event.request?.clientIp != null,
        userAgent: (event) => event.request?.userAgent != null,
        sessionId: (event) => event.request?.sessionId != null,
        requestId: (event) => event.request?.requestId != null,
        traceId: (event) => event.request?.traceId != null,
        failed: (event) => event.failed !== null,
        repository: (event) => event.repository !== null,
      };
      for (const [field, carried] of Object.entries(carries) as Array<[RecordedField, (event: AuditEventModel) => boolean]>) {
        expect({ field, seen: all.some(carried) }).toEqual({ field, seen: dataSource.capabilities.recordedFields.includes(field) });
      }
    });

    it('agrees with the gateway filter on which events match', () => {
      const selection = selectEvents({ actions: [all[0]!.action] }, [{ id: dataSource.sourceId, recordedFields: dataSource.capabilities.recordedFields }], 'DESC');
      const matched = all.filter(selection.matches);
      expect(matched.length).toBeGreaterThan(0);
      expect(matched.every((event) => event.action === all[0]!.action)).toBe(true);
    });

    it('finds one event again by its reference, and answers null for an unknown one', async () => {
      const wanted = all[Math.floor(all.length / 2)]!;
      const found = await dataSource.getEvent({ sourceEventId: wanted.sourceEventId, occurredAtMs: wanted.occurredAtMs }, AbortSignal.timeout(10_000));
      expect(found).toEqual(wanted);
      const missing = await dataSource.getEvent({ sourceEventId: `${wanted.sourceEventId}x`, occurredAtMs: wanted.occurredAtMs }, AbortSignal.timeout(10_000));
      expect(missing).toBeNull();
    });

    it('counts events when it says it can', async () => {
      if (!dataSource.capabilities.countsTotal || !dataSource.countEvents) return;
      const count = await dataSource.countEvents(NO_FILTER, AbortSignal.timeout(10_000));
      expect(count === null || count === all.length).toBe(true);
    });

    it('reports rejected credentials as UPSTREAM_AUTH_FAILED naming the source, without the credential', async () => {
      const wrong = Object.fromEntries(Object.keys(simulator.credentials).map((key) => [key, `CANARY-${key}-0000`]));
      const bad = dataSourceFor(module, simulator, { id: 'bad-creds', credentials: wrong });
      try {
        const error = await bad.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamError);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamAuthFailed);
        expect((error as UpstreamError).extensions['source']).toBe('bad-creds');
        expect(JSON.stringify({ message: (error as Error).message, ext: (error as UpstreamError).extensions })).not.toContain('CANARY');
      } finally {
        await bad.close();
      }
    });

    it('waits out a 429 with Retry-After and then answers', async () => {
      simulator.control.inject({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
      const started = Date.now();
      const result = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(result.events.length).toBeGreaterThan(0);
    });

    it('retries a 503 and gives UPSTREAM_UNAVAILABLE when it persists', async () => {
      simulator.control.inject({ kind: 'status', status: 503 });
      const recovered = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) });
      expect(recovered.events.length).toBeGreaterThan(0);
      // Every request fails while it persists, however many a datasource sends at once.
      simulator.control.knobs.errorRate = 1;
      try {
        const error = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamUnavailable);
      } finally {
        simulator.control.knobs.errorRate = 0;
      }
    });

    it('refuses a malformed JSON body as UPSTREAM_MALFORMED_RESPONSE', async () => {
      simulator.control.inject({ kind: 'invalid-json' });
      const error = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamMalformedResponse);
    });

    it('gives UPSTREAM_TIMEOUT for an upstream slower than the deadline', async () => {
      const slow = dataSourceFor(module, simulator, { id: 'slow', timeouts: { requestMs: 300 } });
      simulator.control.inject({ kind: 'blackhole' });
      try {
        const started = Date.now();
        const error = await slow.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamTimeout);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await slow.close();
      }
    });
  });
}
