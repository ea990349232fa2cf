import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('statistics', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 1500, seed: 8, endMs: Date.UTC(2026, 0, 15) });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('counts the events of the window by type, repository, actor type and actor', async () => {
    const fromMs = simulator.dataset.timeOf(300);
    const toMs = simulator.dataset.timeOf(1200);
    const events = simulator.expectedEvents('x').filter((event) => event.occurredAtMs >= fromMs && event.occurredAtMs < toMs);
    const stats = await source.getStatistics({ fromMs, toMs }, AbortSignal.timeout(5000));
    expect(stats.sourceId).toBe('complianceagent-test');
    expect(stats.totalEvents).toBe(events.length);
    const tally = (keys: string[]) => keys.reduce<Record<string, number>>((acc, key) => ({ ...acc, [key]: (acc[key] ?? 0) + 1 }), {});
    expect(Object.fromEntries(stats.byEventType.map(({ key, count }) => [key, count]))).toEqual(tally(events.map((event) => event.action)));
    const repoName = (event: (typeof events)[number]) => ((event.raw['repository'] as { name: string }).name);
    expect(Object.fromEntries(stats.byRepository.map(({ key, count }) => [key, count]))).toEqual(tally(events.map(repoName)));
    expect(Object.fromEntries(stats.byActorType.map(({ actorType, count }) => [actorType, count]))).toEqual(tally(events.map((event) => event.actor.type)));
    const actors = tally(events.map((event) => event.actor.email ?? event.actor.sourceActorId!));
    expect(stats.topActors.length).toBeLessThanOrEqual(10);
    expect(stats.topActors[0]!.count).toBe(Math.max(...Object.values(actors)));
    for (const { actor, count } of stats.topActors) expect(actors[actor]).toBe(count);
    expect(stats.byEventType.map((item) => item.count)).toEqual([...stats.byEventType.map((item) => item.count)].sort((a, b) => b - a));
  });

  it('counts everything without a window', async () => {
    const stats = await source.getStatistics({}, AbortSignal.timeout(5000));
    expect(stats).toEqual(expect.objectContaining({ fromMs: null, toMs: null, totalEvents: 1500 }));
  });
});
