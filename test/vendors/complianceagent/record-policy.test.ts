import type { AuditEventModel } from '../../../src/models/audit-event';
import type { JsonObject } from '../../../src/models/json';
import type { Direction, SourceQuery, SourceResume } from '../../../src/sources/data-source';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { unplaceableReason } from '../../../src/vendors/complianceagent/normalize';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import type { FixtureServer } from '../../helpers/fixture-server';
import { chainedEntries, startComplianceAgentUpstream, type StoredEntry } from './fixture-upstream';

const START = Date.UTC(2024, 0, 15, 10, 30);

async function withUpstream(entries: readonly StoredEntry[], body: (dataSource: ComplianceAgentDataSource, upstream: FixtureServer) => Promise<void>): Promise<void> {
  const upstream = await startComplianceAgentUpstream(entries);
  const dataSource = dataSourceFor(complianceAgentModule, { baseUrl: upstream.baseUrl, credentials: { apiKey: 'ca_test_sk_fixture' } });
  if (!(dataSource instanceof ComplianceAgentDataSource)) throw new Error('not a ComplianceAgent datasource');
  try {
    await body(dataSource, upstream);
  } finally {
    await dataSource.close();
    await upstream.close();
  }
}

/** Reads to the end with a limit that changes per batch, summing what each batch reports. */
async function readCounting(dataSource: ComplianceAgentDataSource, direction: Direction, limits: readonly number[], query: SourceQuery = NO_FILTER) {
  const events: AuditEventModel[] = [];
  let unusable = 0;
  let resume: SourceResume | null = null;
  for (let i = 0; i < 1000; i++) {
    const batch = await dataSource.listEvents({ direction, query, resume, limit: limits[i % limits.length]!, signal: AbortSignal.timeout(10_000) });
    events.push(...batch.events);
    unusable += batch.unusableRecords ?? 0;
    if (batch.next === null) return { events, unusable };
    resume = batch.next;
  }
  throw new Error('no end');
}

/** Entries that cannot be placed, each as the vendor might send it. */
const UNPLACEABLE_SHAPES: Array<(entry: JsonObject) => JsonObject> = [
  ({ id: _id, ...entry }) => entry,
  (entry) => ({ ...entry, id: null }),
  (entry) => ({ ...entry, timestamp: null }),
  (entry) => ({ ...entry, timestamp: 'last tuesday' }),
];

/** 60 chained entries; every 5th cannot be placed. */
function logWithUnplaceable(): StoredEntry[] {
  return chainedEntries(60, START, (i, entry) => (i % 5 === 4 ? UNPLACEABLE_SHAPES[(i / 5) % UNPLACEABLE_SHAPES.length | 0]!(entry) : entry));
}

const placeableIds = (entries: readonly StoredEntry[]) => entries.filter((entry) => unplaceableReason(entry.json) === null).map((entry) => (entry.json as JsonObject)['id'] as string).sort();
const ids = (events: readonly AuditEventModel[]) => events.map((event) => event.sourceEventId).sort();

describe('ComplianceAgent record policy over loopback', () => {
  for (const direction of ['DESC', 'ASC'] as const) {
    for (const limits of [[10], [7, 13, 4]]) {
      it(`serves every placeable entry exactly once and counts each unplaceable one once, ${direction}, limits ${limits.join('/')}`, async () => {
        // Offsets count every listed entry: counting only placeable ones would re-read a page
        // from the wrong place, repeating entries or ending the traversal early.
        const entries = logWithUnplaceable();
        await withUpstream(entries, async (dataSource) => {
          const { events, unusable } = await readCounting(dataSource, direction, limits);
          expect(ids(events)).toEqual(placeableIds(entries));
          expect(unusable).toBe(12);
        });
      });
    }
  }

  it('keeps the window open for an unplaceable newest entry, so later pages do not shift', async () => {
    // The newest entry has no readable timestamp: pinning the window just past the newest
    // placeable entry would drop it from every later page and shift their offsets by one.
    const entries = chainedEntries(25, START, (i, entry) => (i === 24 ? { ...entry, timestamp: null } : entry));
    await withUpstream(entries, async (dataSource) => {
      const { events, unusable } = await readCounting(dataSource, 'DESC', [10]);
      expect(ids(events)).toEqual(placeableIds(entries));
      expect(unusable).toBe(1);
    });
  });

  it('reads null, empty and missing optional fields as absent, and an actor without id as the kind it says or UNKNOWN', async () => {
    const entries = chainedEntries(4, START, (i, entry): JsonObject => {
      const nulls: JsonObject = { ...entry, resource: null, repository: null, details: null, ip_address: null, user_agent: null, session_id: null, request_id: null };
      if (i === 0) return { ...nulls, actor: { type: 'user', id: 'user_123', email: null, name: null } };
      if (i === 1) return { ...nulls, actor: { type: 'system', email: null } };
      if (i === 2) return { ...nulls, actor: null, event_type: null };
      return { ...nulls, actor: { type: 'ai', id: 'agent_7' }, resource: { id: 'issue_9' }, repository: { name: 'acme/web-app' }, details: {} };
    });
    await withUpstream(entries, async (dataSource) => {
      const { events, unusable } = await readCounting(dataSource, 'ASC', [10]);
      expect(unusable).toBe(0);
      const byId = new Map(events.map((event) => [event.sourceEventId, event]));
      const absent = { target: null, repository: null, details: null, failed: null };
      expect(byId.get('log_0000')).toMatchObject({ ...absent, actor: { sourceActorId: 'user_123', type: 'USER', name: null, email: null }, request: { clientIp: null, userAgent: null, sessionId: null, requestId: null } });
      expect(byId.get('log_0001')).toMatchObject({ ...absent, actor: { sourceActorId: null, type: 'SYSTEM' } });
      expect(byId.get('log_0002')).toMatchObject({ ...absent, action: 'unknown', category: 'OTHER', actor: { sourceActorId: null, type: 'UNKNOWN', name: null, email: null } });
      expect(byId.get('log_0003')).toMatchObject({
        ...absent,
        actor: { sourceActorId: 'agent_7', type: 'UNKNOWN' },
        target: { sourceTargetId: 'issue_9', type: 'unknown', name: null },
      });
      expect(events.every((event) => event.integrity?.hash?.startsWith('sha256:'))).toBe(true);
    });
  });

  it('does not push down the name given to entries without an event type', async () => {
    const entries = chainedEntries(6, START, (i, entry) => (i % 2 === 0 ? { ...entry, event_type: null } : entry));
    await withUpstream(entries, async (dataSource, upstream) => {
      const { events } = await readCounting(dataSource, 'DESC', [10], { ...NO_FILTER, actions: ['unknown'] });
      expect(events.filter((event) => event.action === 'unknown')).toHaveLength(3);
      expect(upstream.requests.some((request) => request.query.has('event_type'))).toBe(false);
      expect(await dataSource.countEvents({ ...NO_FILTER, actions: ['unknown'] }, AbortSignal.timeout(5000))).toBeNull();
    });
  });
});

describe('ComplianceAgent chain verification with entries that cannot be placed', () => {
  it('verifies a clean chain read from the upstream', async () => {
    await withUpstream(chainedEntries(130, START), async (dataSource) => {
      const { verification } = await dataSource.verifyWindow({}, AbortSignal.timeout(10_000));
      expect(verification).toMatchObject({ valid: true, checked: 130, firstBadIndex: null });
    });
  });

  it.each([
    ['in the middle', 57],
    ['as the newest entry, where a check of the listed events alone would look whole', 129],
    ['as the first entry of the chain', 0],
  ])('reports an entry without a readable timestamp %s, at its position', async (_where, index) => {
    // The vendor hashed the entry as it is: its content and links are intact, yet the gateway cannot list it.
    const entries = chainedEntries(130, START, (i, entry) => (i === index ? { ...entry, timestamp: null } : entry));
    await withUpstream(entries, async (dataSource) => {
      const { verification } = await dataSource.verifyWindow({}, AbortSignal.timeout(10_000));
      expect(verification).toMatchObject({ valid: false, checked: 130, firstBadIndex: index, hashMismatches: 0, gapsDetected: 0 });
      expect(verification.problems).toEqual([{ index, kind: 'unplaceable' }]);
    });
  });

  it('reports an entry without an id, and a changed one next to it, each at its position', async () => {
    const entries = chainedEntries(40, START, (i, entry) => (i === 20 ? { ...entry, id: null } : entry));
    const tampered = entries.map((entry, i) => (i === 21 ? { ...entry, json: { ...(entry.json as JsonObject), ip_address: '198.51.100.1' } } : entry));
    await withUpstream(tampered, async (dataSource) => {
      const { verification } = await dataSource.verifyWindow({}, AbortSignal.timeout(10_000));
      expect(verification.valid).toBe(false);
      expect(verification.problems).toEqual([
        { index: 20, kind: 'unplaceable' },
        { index: 21, kind: 'hash_mismatch' },
      ]);
    });
  });
});
