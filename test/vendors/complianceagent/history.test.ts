import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { dataSourceFor } from '../../helpers/datasource';

describe('compliance history', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;
  const signal = () => AbortSignal.timeout(5000);
  const fromMs = Date.UTC(2025, 11, 29);
  const toMs = Date.UTC(2026, 0, 15);

  beforeAll(async () => {
    // 3,000 events about 10 minutes apart (35 % share a timestamp): some two weeks of activity.
    simulator = await startComplianceAgentSimulator({ size: 3000, seed: 6, endMs: toMs - 1, meanGapMs: 600_000 });
    source = dataSourceFor(complianceAgentModule, simulator) as ComplianceAgentDataSource;
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('gives one point per ISO week with the change from the week before', async () => {
    const history = await source.getComplianceHistory({ metric: 'ISSUES', interval: 'WEEK', fromMs, toMs }, signal());
    expect(history.dataPoints.map((point) => [point.periodStart, point.periodEnd])).toEqual([
      ['2025-12-29', '2026-01-04'],
      ['2026-01-05', '2026-01-11'],
      ['2026-01-12', '2026-01-18'],
    ]);
    const events = simulator.expectedEvents('x');
    const weekStarts = [fromMs, Date.UTC(2026, 0, 5), Date.UTC(2026, 0, 12), toMs];
    const counts = weekStarts.slice(0, 3).map((start, i) => events.filter((event) => event.action === 'issue.created' && event.occurredAtMs >= start && event.occurredAtMs < weekStarts[i + 1]!).length);
    expect(history.dataPoints.map((point) => point.value)).toEqual(counts);
    expect(counts.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
    expect(history.dataPoints[0]!.change).toBeNull();
    expect(history.dataPoints[1]!.change).toBe(counts[1]! - counts[0]!);
    const total = counts[2]! - counts[0]!;
    expect(history.summary).toEqual({ startValue: counts[0], endValue: counts[2], totalChange: total, trend: total < 0 ? 'IMPROVING' : total > 0 ? 'DECLINING' : 'STABLE' });
  });

  it('scores by day within 0 to 100, filtered by repository and framework', async () => {
    const history = await source.getComplianceHistory({ metric: 'SCORE', interval: 'DAY', fromMs: Date.UTC(2026, 0, 10), toMs, repositoryId: 'repo_101', framework: 'gdpr' }, signal());
    expect(history).toEqual(expect.objectContaining({ metric: 'SCORE', interval: 'DAY' }));
    expect(history.dataPoints).toHaveLength(5);
    for (const point of history.dataPoints) {
      expect(point.value).toBeGreaterThanOrEqual(0);
      expect(point.value).toBeLessThanOrEqual(100);
    }
  });

  it('counts applied fixes per month', async () => {
    const history = await source.getComplianceHistory({ metric: 'FIXES', interval: 'MONTH', fromMs: Date.UTC(2025, 0, 1), toMs }, signal());
    expect(history.dataPoints.at(-1)).toEqual(expect.objectContaining({ periodStart: '2026-01-01', periodEnd: '2026-01-31' }));
    const total = history.dataPoints.reduce((sum, point) => sum + point.value, 0);
    expect(total).toBe(simulator.expectedEvents('x').filter((event) => event.action === 'fix.applied').length);
  });
});
