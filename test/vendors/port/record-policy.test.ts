import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, Direction, SourceResume } from '../../../src/sources/data-source';
import { portModule } from '../../../src/vendors/port';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { portFixture, startFakePort, timeOf, type FakePort } from './fake-port';

/**
 * The record policy over loopback: Port's null-heavy records are read leniently, only records
 * without an identifier or a usable `trigger.at` are left out, each is counted once, and the
 * time-window paging counts every record Port returned (placeable or not) when it decides whether
 * a response was full.
 */

const audits = (portFixture('audit-log-records.json')['response'] as { audits: Array<Record<string, unknown>> }).audits;
/** Port's own change-event example (the Kafka changelog payload), the template of generated records. */
const template = audits.find((record) => record['identifier'] === 'fixture-changelog-vm-update')!;

const at = (ms: number) => new Date(ms).toISOString();
const dated = (identifier: string | undefined, ms: number, overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const record: Record<string, unknown> = { ...structuredClone(template), trigger: { ...(template['trigger'] as object), at: at(ms) }, ...overrides };
  if (identifier === undefined) delete record['identifier'];
  else record['identifier'] = identifier;
  return record;
};

/** Follows `next` to the end, summing what each batch reports. */
async function traverse(dataSource: AuditDataSource, direction: Direction, limit: number): Promise<{ events: AuditEventModel[]; unusable: number; batches: number }> {
  const events: AuditEventModel[] = [];
  let unusable = 0;
  let resume: SourceResume | null = null;
  for (let batches = 1; batches < 10_000; batches++) {
    const result = await dataSource.listEvents({ direction, query: NO_FILTER, resume, limit, signal: AbortSignal.timeout(10_000) });
    events.push(...result.events);
    unusable += result.unusableRecords ?? 0;
    if (result.next === null) return { events, unusable, batches };
    resume = result.next;
  }
  throw new Error('paging never ended');
}

const ids = (events: AuditEventModel[]) => events.map((event) => event.sourceEventId).sort();

describe('Port record policy over loopback', () => {
  let port: FakePort | undefined;
  let dataSource: AuditDataSource | undefined;
  const serve = async (records: unknown[]) => {
    port = await startFakePort(records);
    dataSource = dataSourceFor(portModule, port);
    return dataSource;
  };
  afterEach(async () => {
    await dataSource?.close();
    await port?.close();
  });

  it('serves a page of null-heavy records, mapped as well as they allow, and counts exactly the ones that cannot be placed', async () => {
    const base = Date.UTC(2026, 0, 10);
    const records = [
      dated('null-everything', base + 5, { action: null, resourceType: null, status: null, message: null, trigger: { by: null, origin: null, at: at(base + 5) }, context: null, diff: null, additionalData: null }),
      dated('absent-everything', base + 4, { action: undefined, resourceType: undefined, status: undefined, trigger: { at: at(base + 4) }, context: undefined, diff: undefined }),
      dated('no-verb', base + 3, { action: null, diff: { before: null, after: null } }),
      dated(undefined, base + 2),
      dated('no-time', base + 1, { trigger: { by: { orgId: 'org_1' }, origin: 'UI', at: null } }),
      null,
      dated('half-diff', base, { diff: { before: { identifier: 'storage-example', title: 'Storage Example VM' } }, context: { entity: null, blueprint: 'vm' } }),
    ];
    const source = await serve(JSON.parse(JSON.stringify(records)) as unknown[]);
    const result = await source.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 100, signal: AbortSignal.timeout(5_000) });
    expect(result.unusableRecords).toBe(3);
    expect(result.next).toBeNull();
    const byId = new Map(result.events.map((event) => [event.sourceEventId, event]));
    expect([...byId.keys()]).toEqual(['null-everything', 'absent-everything', 'no-verb', 'half-diff']);
    for (const id of ['null-everything', 'absent-everything']) {
      expect(byId.get(id)).toMatchObject({ action: 'unknown.unknown', category: 'OTHER', target: null, failed: null, details: null, request: { origin: null } });
      expect(byId.get(id)!.actor).toMatchObject({ type: 'UNKNOWN', sourceActorId: null, organizationId: null });
    }
    expect(byId.get('no-verb')).toMatchObject({ action: 'entity.unknown', failed: false, target: { sourceTargetId: 'storage-example', name: null, subtype: 'vm' } });
    expect(byId.get('no-verb')!.actor).toMatchObject({ type: 'SERVICE_ACCOUNT', organizationId: 'org_sYG4DOJZNGy8bYnt' });
    // The context names no entity; the snapshot before the change does.
    expect(byId.get('half-diff')!.target).toMatchObject({ sourceTargetId: 'storage-example', name: 'Storage Example VM', subtype: 'vm' });
  });

  it('does not take a full response for the end of the log when records that cannot be placed filled part of it', async () => {
    const base = Date.UTC(2026, 0, 10);
    const placeable = Array.from({ length: 7 }, (_, i) => dated(`older-${i}`, base + i * 10));
    const newest = Array.from({ length: 3 }, (_, i) => dated(undefined, base + 1_000 + i, { message: `no id ${i}` }));
    const source = await serve([...newest, ...placeable]);
    for (const direction of ['DESC', 'ASC'] as const) {
      const first = await source.listEvents({ direction, query: NO_FILTER, resume: null, limit: 5, signal: AbortSignal.timeout(5_000) });
      if (direction === 'DESC') expect(first.next).not.toBeNull();
      const all = await traverse(source, direction, 5);
      expect(ids(all.events)).toEqual(placeable.map((record) => record['identifier']).sort());
      expect(all.unusable).toBe(3);
    }
  });

  it('lists every placeable record once and counts each record that cannot be placed once, across a traversal, in both orders', async () => {
    const base = Date.UTC(2026, 0, 10);
    const records: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 150; i++) {
      // Ties of up to four records a millisecond; every sixth record has no identifier.
      const ms = base + Math.floor(i / 4) * 7 + (i % 3);
      records.push(i % 6 === 0 ? dated(undefined, ms, { message: `unidentified ${i}` }) : dated(`log-${String(i).padStart(3, '0')}`, ms, i % 5 === 0 ? { status: null, context: null } : {}));
    }
    const placeable = records.filter((record) => record['identifier'] !== undefined);
    const unplaceable = records.length - placeable.length;
    const source = await serve(records);
    for (const direction of ['DESC', 'ASC'] as const) {
      for (const limit of [3, 7, 40]) {
        const { events, unusable, batches } = await traverse(source, direction, limit);
        expect({ direction, limit, listed: ids(events), unusable }).toEqual({ direction, limit, listed: placeable.map((record) => record['identifier'] as string).sort(), unusable: unplaceable });
        expect(batches).toBeGreaterThan(1);
      }
    }
    expect(records.every((record) => timeOf(record) !== null)).toBe(true);
  });
});
