import { queryMatcher } from '../../../src/sources/query-matcher';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { SourceQuery } from '../../../src/sources/data-source';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type LoggedRequest, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const END = Date.UTC(2026, 0, 15);
const LOGS_PATH = '/api/v1/audit/logs';

const ids = (events: readonly AuditEventModel[]) => events.map((event) => event.sourceEventId).sort();

describe('ComplianceAgent filters against the simulator', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;
  let all: AuditEventModel[];

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 3_000, seed: 31, endMs: END });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
    all = simulator.expectedEvents(source.sourceId);
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  /** Reads `query` to the end; the events the gateway keeps, the whole batch, and the `/logs` requests sent. */
  async function read(query: SourceQuery, direction: 'DESC' | 'ASC' = 'DESC', limit = 50) {
    simulator.takeRequests();
    const { events } = await readAll(source, direction, query, limit);
    const requests = simulator.takeRequests().filter((request: LoggedRequest) => request.path === LOGS_PATH);
    return { kept: ids(events.filter(queryMatcher(query))), events, requests };
  }

  const expected = (query: SourceQuery) => ids(all.filter(queryMatcher(query)));

  it('sends one repository as repository_id and gets exactly its events, in both orders', async () => {
    const repositories = [...new Set(all.flatMap((event) => (event.repository ? [event.repository.sourceRepositoryId] : [])))].sort();
    expect(repositories.length).toBeGreaterThan(1);
    for (const repositoryId of repositories) {
      for (const direction of ['DESC', 'ASC'] as const) {
        const query: SourceQuery = { ...NO_FILTER, repositoryIds: [repositoryId] };
        const { kept, events, requests } = await read(query, direction);
        expect(kept.length).toBeGreaterThan(0);
        expect(kept).toEqual(expected(query));
        // Applied upstream: the gateway has nothing left to drop.
        expect(events).toHaveLength(kept.length);
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.every((request) => request.query.get('repository_id') === repositoryId)).toBe(true);
      }
    }
  });

  it('combines repository_id with event_type and the window, and counts that exactly', async () => {
    const sample = all[1_000]!;
    const query: SourceQuery = {
      ...NO_FILTER,
      fromMs: all[500]!.occurredAtMs,
      toMs: all[2_500]!.occurredAtMs,
      actions: [sample.action],
      repositoryIds: [sample.repository!.sourceRepositoryId],
    };
    const { kept, events, requests } = await read(query);
    expect(kept).toEqual(expected(query));
    expect(events).toHaveLength(kept.length);
    expect(requests.every((request) => request.query.get('repository_id') === sample.repository!.sourceRepositoryId && request.query.get('event_type') === sample.action)).toBe(true);
    expect(await source.countEvents(query, AbortSignal.timeout(5_000))).toBe(kept.length);
  });

  it('leaves several repositories to the gateway, which still keeps exactly theirs', async () => {
    const query: SourceQuery = { ...NO_FILTER, repositoryIds: ['repo_102', 'repo_104'] };
    const { kept, requests } = await read(query, 'DESC', 100);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(expected(query));
    expect(requests.some((request) => request.query.has('repository_id'))).toBe(false);
    expect(await source.countEvents(query, AbortSignal.timeout(5_000))).toBeNull();
  });

  it('never sends actor, and the gateway keeps exactly the events of each actor filter', async () => {
    const person = all.find((event) => event.actor.type === 'USER' && event.actor.email)!.actor;
    const system = all.find((event) => event.actor.type === 'SYSTEM')!.actor;
    const queries: SourceQuery[] = [
      { ...NO_FILTER, actorIds: [person.sourceActorId!] },
      { ...NO_FILTER, actorIds: [system.sourceActorId!] },
      // The gateway hands emails over lower-cased and compares them ignoring case.
      { ...NO_FILTER, actorEmails: [person.email!.toLowerCase()] },
      { ...NO_FILTER, actorTypes: ['SYSTEM'] },
      { ...NO_FILTER, actorTypes: ['USER'] },
      { ...NO_FILTER, actorTypes: ['USER'], actorIds: [system.sourceActorId!] },
      { ...NO_FILTER, actions: [all[0]!.action], actorEmails: [person.email!.toLowerCase()] },
    ];
    for (const query of queries) {
      const { kept, requests } = await read(query, 'DESC', 100);
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.some((request) => request.query.has('actor'))).toBe(false);
      expect(kept).toEqual(expected(query));
    }
    // The filters above are not all empty by accident.
    expect(expected(queries[0]!).length).toBeGreaterThan(0);
    expect(expected(queries[2]!).length).toBeGreaterThan(0);
    expect(expected(queries[3]!).length).toBeGreaterThan(0);
    expect(expected(queries[5]!)).toEqual([]);
  });

  it('no longer claims to push actor filters down, and does claim repositories', () => {
    expect(source.capabilities.nativeFilters).toEqual(['window', 'actions', 'repositoryIds']);
  });
});
