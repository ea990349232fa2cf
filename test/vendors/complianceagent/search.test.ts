import { ErrorCode, UpstreamError } from '../../../src/errors';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('search', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;
  const signal = () => AbortSignal.timeout(5000);

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 1000, seed: 12, endMs: Date.UTC(2026, 0, 15) });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('finds text in details with the match in <em> and a score from 0 to 1', async () => {
    const result = await source.search({ query: 'encryption', fields: 'DETAILS', limit: 100 }, signal());
    const expected = simulator.expectedEvents('x').filter((event) => JSON.stringify(event.raw['details']).toLowerCase().includes('encryption'));
    expect(result.total).toBe(expected.length);
    expect(result.hits.length).toBe(Math.min(100, expected.length));
    for (const hit of result.hits) {
      expect(hit.highlight).toMatch(/<em>encryption<\/em>/i);
      expect(hit.score).toBeGreaterThan(0);
      expect(hit.score).toBeLessThanOrEqual(1);
    }
    const scores = result.hits.map((hit) => hit.score!);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const byId = new Map(expected.map((event) => [event.sourceEventId, event]));
    const first = result.hits[0]!;
    expect(byId.get(first.sourceEventId)).toEqual(expect.objectContaining({ action: first.action, occurredAtMs: first.occurredAtMs }));
  });

  it('searches the actor only when asked to', async () => {
    const email = simulator.expectedEvents('x').find((event) => event.actor.email)!.actor.email!;
    const byActor = await source.search({ query: email, fields: 'ACTOR', limit: 100 }, signal());
    expect(byActor.total).toBeGreaterThan(0);
    expect(byActor.total).toBe(simulator.expectedEvents('x').filter((event) => event.actor.email === email).length);
    expect((await source.search({ query: 'alice', fields: 'DETAILS' }, signal())).hits.every((hit) => hit.highlight !== null)).toBe(true);
  });

  it('returns nothing for text nobody wrote, and refuses an empty query', async () => {
    expect(await source.search({ query: 'zzz-no-such-text' }, signal())).toEqual({ hits: [], total: 0 });
    const error = await source.search({ query: ' ' }, signal()).catch((e: unknown) => e);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamBadRequest);
  });
});
