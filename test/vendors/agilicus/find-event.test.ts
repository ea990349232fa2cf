import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import { isJsonObject } from '../../../src/models/json';
import type { AuditDataSource } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { agilicusModule } from '../../../src/vendors/agilicus';
import { parseAgilicusId } from '../../../src/vendors/agilicus/normalize';
import { startAgilicusSimulator } from '../../../src/vendors/agilicus/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

let simulator: RunningSimulator;
let dataSource: AuditDataSource;
let all: AuditEventModel[];

beforeAll(async () => {
  // Bursts make identical copies (numbered ids) likely.
  simulator = await startAgilicusSimulator({ size: 2000, seed: 5, endMs: Date.UTC(2026, 3, 1), burstRate: 0.3 });
  dataSource = dataSourceFor(agilicusModule, simulator);
  all = simulator.expectedEvents(dataSource.sourceId);
});

afterAll(async () => {
  await dataSource?.close();
  await simulator?.stop();
});

const signal = () => AbortSignal.timeout(5000);

/** The record kind the normaliser put in `details`, independent of the id. */
function kindOf(event: AuditEventModel): unknown {
  return isJsonObject(event.details) ? event.details['kind'] : undefined;
}

/** The requests a lookup cost, per endpoint. */
async function counted<T>(lookup: () => Promise<T>): Promise<{ result: T; audits: number; auth: number }> {
  simulator.control.resetStats();
  const result = await lookup();
  const byRoute = simulator.control.stats.byRoute;
  return { result, audits: byRoute.get('GET /v1/audits') ?? 0, auth: byRoute.get('GET /v1/auth_audits') ?? 0 };
}

describe('Agilicus derived ids', () => {
  it('carry the kind and the millisecond of their record', () => {
    const wrong = all.filter((event) => {
      const parts = parseAgilicusId(event.sourceEventId);
      const prefix = `${String(kindOf(event))}:${event.occurredAtMs}:`;
      return !event.sourceEventId.startsWith(prefix) || parts === null || parts.kind !== kindOf(event) || parts.occurredAtMs !== event.occurredAtMs;
    });
    expect(wrong).toEqual([]);
  });

  it('number identical copies after the time, and are the same on every read', async () => {
    const copies = all.filter((event) => (parseAgilicusId(event.sourceEventId)?.copy ?? 0) > 0);
    expect(copies.length).toBeGreaterThan(0);
    expect(new Set(all.map((event) => event.sourceEventId)).size).toBe(all.length);
    for (const [direction, limit] of [['DESC', 25], ['ASC', 250]] as const) {
      const { events } = await readAll(dataSource, direction, NO_FILTER, limit);
      expect(events.map((event) => event.sourceEventId).sort()).toEqual(all.map((event) => event.sourceEventId).sort());
    }
  });
});

describe('AgilicusDataSource.findEvent', () => {
  function pick(kind: 'audit' | 'auth', copy: boolean): AuditEventModel {
    const found = all.find((event) => kindOf(event) === kind && ((parseAgilicusId(event.sourceEventId)?.copy ?? 0) > 0) === copy);
    if (!found) throw new Error(`no ${kind} event${copy ? ' copy' : ''} in the data set`);
    return found;
  }

  it.each([
    ['an audit record', 'audit', false],
    ['an auth record', 'auth', false],
    ['a copy of an audit record', 'audit', true],
    ['a copy of an auth record', 'auth', true],
  ] as const)('finds %s by its id alone, reading only its endpoint once', async (_what, kind, copy) => {
    const wanted = pick(kind, copy);
    const { result, audits, auth } = await counted(() => dataSource.findEvent!(wanted.sourceEventId, signal()));
    expect(result).toEqual(wanted);
    expect(audits + auth).toBeLessThanOrEqual(2);
    expect(kind === 'audit' ? [audits, auth] : [auth, audits]).toEqual([1, 0]);
  });

  it('finds the newest and the oldest event', async () => {
    for (const wanted of [all[0]!, all[all.length - 1]!]) expect(await dataSource.findEvent!(wanted.sourceEventId, signal())).toEqual(wanted);
  });

  it('answers null for a well-formed id that names no record, after one read', async () => {
    const real = pick('auth', false);
    const unknown = [
      real.sourceEventId.replace(/:[0-9a-f]{32}/, `:${'0'.repeat(32)}`),
      `${real.sourceEventId}:7`,
      real.sourceEventId.replace(/^auth:\d+:/, `auth:${real.occurredAtMs + 1}:`),
      real.sourceEventId.replace(/^auth:/, 'audit:'),
    ];
    for (const id of unknown) {
      const { result, audits, auth } = await counted(() => dataSource.findEvent!(id, signal()));
      expect({ id, result, requests: audits + auth }).toEqual({ id, result: null, requests: 1 });
    }
  });

  it('answers null for a malformed id without a request', async () => {
    const real = pick('audit', false);
    const malformed = [
      '',
      'nope:123',
      real.sourceEventId.replace(/^audit:\d+:/, 'audit:'),
      real.sourceEventId.replace(/^audit:/, 'login:'),
      real.sourceEventId.replace(/:(\d+):/, ':0$1:'),
      `${real.sourceEventId}x`,
      `${real.sourceEventId}:0`,
      real.sourceEventId.toUpperCase(),
    ];
    for (const id of malformed) {
      const { result, audits, auth } = await counted(() => dataSource.findEvent!(id, signal()));
      expect({ id, result, requests: audits + auth }).toEqual({ id, result: null, requests: 0 });
    }
  });
});

describe('AgilicusDataSource.getEvent with self-locating ids', () => {
  it('finds an event by reference with one read, and answers null without a request when the time is not the id\'s', async () => {
    const wanted = all[1234]!;
    const found = await counted(() => dataSource.getEvent({ sourceEventId: wanted.sourceEventId, occurredAtMs: wanted.occurredAtMs }, signal()));
    expect(found.result).toEqual(wanted);
    expect(found.audits + found.auth).toBe(1);
    const elsewhere = await counted(() => dataSource.getEvent({ sourceEventId: wanted.sourceEventId, occurredAtMs: wanted.occurredAtMs - 1 }, signal()));
    expect({ result: elsewhere.result, requests: elsewhere.audits + elsewhere.auth }).toEqual({ result: null, requests: 0 });
  });
});

describe('AgilicusDataSource.findEvent in a crowded millisecond', () => {
  it('refuses, rather than answers null, when the millisecond holds more records than one read can', async () => {
    const crowded = await startAgilicusSimulator({ size: 10_010, seed: 9, endMs: Date.UTC(2026, 3, 1), tieRate: 1 });
    const source = dataSourceFor(agilicusModule, crowded);
    try {
      const at = crowded.expectedEvents(source.sourceId)[0]!.occurredAtMs;
      const error = await source.findEvent!(`audit:${at}:${'0'.repeat(32)}`, signal()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamResponseTooLarge);
    } finally {
      await source.close();
      await crowded.stop();
    }
  });
});
