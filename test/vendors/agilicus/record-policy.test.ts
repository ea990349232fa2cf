import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { JsonObject, JsonValue } from '../../../src/models/json';
import type { AuditDataSource, Direction, SourceResume } from '../../../src/sources/data-source';
import { agilicusModule } from '../../../src/vendors/agilicus';
import {
  normalizeAgilicusAudit,
  normalizeAgilicusAuthAudit,
  parseAgilicusAudit,
  parseAgilicusAuthAudit,
  parseAgilicusTime,
  withOccurrenceIds,
} from '../../../src/vendors/agilicus/normalize';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { recordAt, startAgilicusUpstream, type AgilicusUpstream, type StoredRecord, type UpstreamRecords } from './fixture-upstream';

const START = Date.UTC(2026, 0, 20, 12);

/** An audit record of the newest SDK's shape, used as the template of a log. */
const TEMPLATE: JsonObject = {
  user_id: 'tuU7smH86zAXMz8Nkie39D',
  org_id: 'G99q3lasls29wsk3XkYFUN',
  action: 'UPDATE',
  source_ip: '192.0.2.3',
  target_id: '6fNGPhJdpm4ZBTWY7BXRhN',
  target_resource_type: 'application',
  api_name: 'applications',
};

/** What one kind of unplaceable record looks like on the wire. */
const UNPLACEABLE: JsonValue[] = [null, 'not a record', 'yesterday', 1768917802518, ''];

/** `count` records one second apart from START + `offsetMs`; every `every`-th cannot be placed. */
function logWithUnplaceable(count: number, every: number, offsetMs = 0): StoredRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const ms = START + offsetMs + i * 1000;
    if (i % every !== every - 1) return recordAt({ ...TEMPLATE, trace_id: `trace-${i}` }, ms);
    const odd = UNPLACEABLE[i % UNPLACEABLE.length]!;
    // The upstream still files the record under a time of its own; its JSON shows none usable.
    return typeof odd === 'string' || odd === null ? recordAt({ ...TEMPLATE, trace_id: `trace-${i}` }, ms, odd) : { json: odd, storedAtMs: ms };
  });
}

/** The events a complete read must return: every record of `stored` that has a readable time. */
function placeable(stored: readonly StoredRecord[], sourceId: string, kind: 'audit' | 'auth' = 'audit'): AuditEventModel[] {
  const usable = stored.filter(({ json }) => typeof json === 'object' && json !== null && !Array.isArray(json) && typeof json['time'] === 'string' && !Number.isNaN(parseAgilicusTime(json['time'])));
  const normalize = (json: JsonValue) =>
    kind === 'audit' ? normalizeAgilicusAudit(parseAgilicusAudit(json), sourceId) : normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(json), sourceId);
  return withOccurrenceIds(usable.map(({ json }) => normalize(json)));
}

async function withUpstream(records: UpstreamRecords, body: (dataSource: AuditDataSource, upstream: AgilicusUpstream) => Promise<void>): Promise<void> {
  const upstream = await startAgilicusUpstream(records);
  const dataSource = dataSourceFor(agilicusModule, { baseUrl: upstream.baseUrl, credentials: { token: 'fixture-token' } });
  try {
    await body(dataSource, upstream);
  } finally {
    await dataSource.close();
    await upstream.close();
  }
}

/** Reads to the end, summing what each batch reports. */
async function readCounting(dataSource: AuditDataSource, direction: Direction, limit: number) {
  const events: AuditEventModel[] = [];
  let unusable = 0;
  let resume: SourceResume | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const batch = await dataSource.listEvents({ direction, query: NO_FILTER, resume, limit, signal: AbortSignal.timeout(10_000) });
    events.push(...batch.events);
    unusable += batch.unusableRecords ?? 0;
    if (batch.next === null) return { events, unusable };
    resume = batch.next;
  }
  throw new Error('no end');
}

const ids = (events: readonly AuditEventModel[]) => events.map((event) => event.sourceEventId).sort();

describe('Agilicus record policy over loopback', () => {
  for (const direction of ['DESC', 'ASC'] as const) {
    it(`serves every placeable record when unplaceable ones share its pages, counting them towards full pages, ${direction}`, async () => {
      // Every page of 10 holds 2 or 3 unplaceable records: a page judged by its placeable records
      // alone would look short, and the traversal would stop after its first page.
      const audits = logWithUnplaceable(120, 4);
      const authAudits = logWithUnplaceable(60, 3, 500);
      await withUpstream({ audits, authAudits }, async (dataSource) => {
        const expected = [...placeable(audits, dataSource.sourceId), ...placeable(authAudits, dataSource.sourceId, 'auth')];
        expect(expected).toHaveLength(90 + 40);
        const { events, unusable } = await readCounting(dataSource, direction, 10);
        expect(ids(events)).toEqual(ids(expected));
        expect(new Set(ids(events)).size).toBe(events.length);
        // Each unplaceable record is reported at least once (a page read again reports it again).
        expect(unusable).toBeGreaterThanOrEqual(30 + 20);
      });
    });
  }

  it('reads a full page of only unplaceable records again at the largest limit instead of ending the window', async () => {
    const hidden = Array.from({ length: 12 }, (_, i) => recordAt({ ...TEMPLATE, trace_id: `timeless-${i}` }, START + 10_000, null));
    const older = Array.from({ length: 5 }, (_, i) => recordAt({ ...TEMPLATE, trace_id: `older-${i}` }, START + i * 1000));
    await withUpstream({ audits: [...hidden, ...older], authAudits: [] }, async (dataSource, upstream) => {
      const { events, unusable } = await readCounting(dataSource, 'DESC', 10);
      expect(ids(events)).toEqual(ids(placeable(older, dataSource.sourceId)));
      expect(unusable).toBeGreaterThanOrEqual(12);
      expect(upstream.requests.some((request) => request.path === '/v1/audits' && request.query.get('limit') === '5000')).toBe(true);
    });
  });

  it('refuses a window whose largest page holds nothing placeable, rather than answer it short', async () => {
    const hidden = Array.from({ length: 5001 }, (_, i) => recordAt({ trace_id: `timeless-${i}` }, START + i, null));
    await withUpstream({ audits: hidden, authAudits: [] }, async (dataSource) => {
      const error = await readCounting(dataSource, 'DESC', 10).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamMalformedResponse);
    });
  });

  it('reads fields of an unexpected type as absent and keeps them in raw', async () => {
    const odd = recordAt({ ...TEMPLATE, user_id: 42, target_id: { id: 'x' }, action: ['CREATE'], source_ip: false, session: '' }, START);
    await withUpstream({ audits: [odd], authAudits: [] }, async (dataSource) => {
      const [event] = (await readCounting(dataSource, 'DESC', 10)).events;
      expect(event).toMatchObject({
        action: 'unknown',
        actor: { sourceActorId: null, type: 'SYSTEM', organizationId: TEMPLATE['org_id'] },
        target: null,
        request: { clientIp: null, sessionId: null },
      });
      expect(event!.raw).toEqual(odd.json);
    });
  });
});
