import type { GraphQLResponse, TestGateway } from './gateway';

/** Every field of an answer, each histogram interval under its own alias. */
export const FULL_STATISTICS = `query ($filter: AuditEventFilter, $limit: PositiveInt) {
  auditStatistics(filter: $filter) {
    asOf from to exact eventsScanned totalEvents
    bySource { source { sourceId } count }
    byAction { key count }
    byCategory { category count }
    byActorType { actorType count }
    topActors(limit: $limit) { actor { id } count }
    hour: histogram(interval: HOUR) { start end count }
    day: histogram(interval: DAY) { start end count }
    week: histogram(interval: WEEK) { start end count }
    month: histogram(interval: MONTH) { start end count }
    sourceStatuses { source { sourceId } status errorCode upstreamRequests eventsScanned eventsCounted }
  }
}`;

export interface Bucket {
  start: string;
  end: string;
  count: number;
}

export interface StatisticsData {
  asOf: string;
  from: string | null;
  to: string;
  exact: boolean;
  eventsScanned: number;
  totalEvents: number;
  bySource?: Array<{ source: { sourceId: string }; count: number }>;
  byAction?: Array<{ key: string; count: number }>;
  byCategory?: Array<{ category: string; count: number }>;
  byActorType?: Array<{ actorType: string; count: number }>;
  topActors?: Array<{ actor: { id: string }; count: number }>;
  hour?: Bucket[];
  day?: Bucket[];
  week?: Bucket[];
  month?: Bucket[];
  sourceStatuses: Array<{ source: { sourceId: string }; status: string; errorCode: string | null; upstreamRequests: number; eventsScanned: number; eventsCounted: number | null }>;
}

/** One event of a traversal, as the brute-force count needs it. */
export interface ListedEvent {
  sourceEventId: string;
  occurredAt: string;
  action: string;
  category: string;
  source: { sourceId: string };
  actor: { type: string; node: { id: string } };
}

const PAGE = `query ($after: String, $filter: AuditEventFilter) {
  auditEvents(first: 100, after: $after, filter: $filter) {
    nodes { sourceEventId occurredAt action category source { sourceId } actor { type node { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Every event a full `auditEvents` traversal with `filter` lists, page after page. */
export async function traverse(setup: TestGateway, filter: Record<string, unknown> | undefined): Promise<ListedEvent[]> {
  const events: ListedEvent[] = [];
  let after: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const response: GraphQLResponse<{ auditEvents: { nodes: ListedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }> = await setup.query(PAGE, { after, filter });
    if (response.errors) throw new Error(`traversal failed: ${JSON.stringify(response.errors)}`);
    const connection = response.data!.auditEvents;
    events.push(...connection.nodes);
    if (!connection.pageInfo.hasNextPage) return events;
    after = connection.pageInfo.endCursor;
  }
  throw new Error('traversal did not end');
}

/** Counts of `keyOf` over `events`, largest first, ties by key: the order the gateway lists counts in. */
export function countsBy<T>(events: readonly T[], keyOf: (event: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(keyOf(event), (counts.get(keyOf(event)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/**
 * Checks a histogram against listed events without the gateway's bucket arithmetic: buckets are
 * contiguous, start on UTC calendar boundaries of `interval` (or at the window's ends), span the
 * window, and each holds exactly the events whose time lies in it.
 */
export function expectHistogram(buckets: readonly Bucket[], events: readonly ListedEvent[], interval: 'HOUR' | 'DAY' | 'WEEK' | 'MONTH', window: { from: string | null; to: string }): void {
  const times = events.map((event) => Date.parse(event.occurredAt));
  if (buckets.length === 0) {
    expect(window.from === null && times.length === 0).toBe(true);
    return;
  }
  const aligned = (ms: number) => {
    const d = new Date(ms);
    const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0;
    if (interval === 'HOUR') return ms % 3_600_000 === 0;
    if (interval === 'DAY') return midnight;
    if (interval === 'WEEK') return midnight && d.getUTCDay() === 1;
    return midnight && d.getUTCDate() === 1;
  };
  const first = Date.parse(buckets[0]!.start);
  if (window.from !== null) expect(first).toBe(Date.parse(window.from));
  else {
    // The bucket of the oldest event counted.
    expect(aligned(first)).toBe(true);
    expect(first).toBeLessThanOrEqual(Math.min(...times));
    expect(Date.parse(buckets[0]!.end)).toBeGreaterThan(Math.min(...times));
  }
  expect(Date.parse(buckets[buckets.length - 1]!.end)).toBe(Date.parse(window.to));
  buckets.forEach((bucket, i) => {
    const start = Date.parse(bucket.start);
    const end = Date.parse(bucket.end);
    expect(start).toBeLessThan(end);
    if (i > 0) {
      expect(start).toBe(Date.parse(buckets[i - 1]!.end));
      expect(aligned(start)).toBe(true);
    }
    if (i < buckets.length - 1) expect(aligned(end)).toBe(true);
    expect(bucket.count).toBe(times.filter((t) => t >= start && t < end).length);
  });
}
