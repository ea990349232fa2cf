import type { AuditEventModel } from '../../src/models/audit-event';
import type { AuditDataSource, Direction, ListEventsRequest, ListEventsResult, SourceCapabilities } from '../../src/sources/data-source';
import { SourceHealthTracker } from '../../src/sources/health';
import { SourceRegistry } from '../../src/sources/registry';

/** A minimal event for merge tests. */
export function fakeEvent(sourceId: string, sourceEventId: string, occurredAtMs: number): AuditEventModel {
  return {
    sourceId,
    vendor: 'nirvana',
    sourceEventId,
    action: 'test.action',
    category: 'OTHER',
    occurredAtMs,
    actor: { sourceId, sourceActorId: 'actor', type: 'USER', name: null, email: null },
    target: null,
    request: null,
    details: null,
    repository: null,
    integrity: null,
    failed: null,
    raw: {},
  };
}

/**
 * An in-process datasource over a fixed list, for the pure paging units: it keeps the monotone
 * batch contract but otherwise behaves like a hostile upstream (batch sizes it chooses, events
 * shuffled within a batch, tie groups cut across batches).
 */
export class FakeDataSource implements AuditDataSource {
  readonly vendor = 'nirvana' as const;
  readonly displayName = 'fake';
  readonly capabilities: SourceCapabilities = {
    nativeOrder: 'DESC',
    bothOrders: true,
    pagingKind: 'CURSOR',
    minPageSize: 1,
    maxPageSize: 50,
    nativeFilters: [],
    recordedFields: [],
    getById: false,
    countsTotal: false,
    retentionDays: null,
  };
  calls = 0;
  failNext = 0;

  /**
   * @param honoursWindow false for an upstream that cannot filter by time (the gateway then scans
   *   to where a window starts, as over a cursor-only API)
   */
  constructor(
    readonly sourceId: string,
    private readonly events: AuditEventModel[],
    private readonly batchSize: (call: number) => number,
    private readonly honoursWindow = true,
  ) {}

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    this.calls += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      const { UpstreamError, ErrorCode } = await import('../../src/errors');
      throw new UpstreamError(ErrorCode.UpstreamUnavailable, this.sourceId);
    }
    const ordered = orderedByTime(this.events, request.direction).filter((event) => {
      if (!this.honoursWindow) return true;
      const { fromMs, toMs } = request.query;
      return (fromMs === null || event.occurredAtMs >= fromMs) && (toMs === null || event.occurredAtMs < toMs);
    });
    const offset = typeof request.resume === 'number' ? request.resume : 0;
    const size = Math.max(1, Math.min(this.batchSize(this.calls), request.limit));
    const batch = ordered.slice(offset, offset + size);
    const next = offset + size < ordered.length ? offset + size : null;
    // Within a batch the order is the upstream's business: reverse every other batch.
    return { events: this.calls % 2 === 0 ? [...batch].reverse() : batch, next, upstreamRequests: 1 };
  }

  async getEvent(): Promise<AuditEventModel | null> {
    return null;
  }

  async close(): Promise<void> {}
}

/** Time order only, ties in insertion order: an upstream need not break ties by id. */
function orderedByTime(events: readonly AuditEventModel[], direction: Direction): AuditEventModel[] {
  return [...events].sort((a, b) => (direction === 'DESC' ? b.occurredAtMs - a.occurredAtMs : a.occurredAtMs - b.occurredAtMs));
}

/** A registry of fake sources, as the gateway builds one from config. */
export function registryOf(sources: readonly FakeDataSource[]): SourceRegistry {
  return new SourceRegistry(
    sources.map((dataSource) => ({
      config: { id: dataSource.sourceId, vendor: 'nirvana', name: undefined, baseUrl: 'http://fake', allowPrivateNetwork: true, timeouts: { connectMs: 1, headersMs: 1, bodyMs: 1, requestMs: 1 }, retry: { maxRetries: 0, minDelayMs: 1, maxDelayMs: 1 }, maxConnections: 1, maxResponseBytes: 1 },
      dataSource,
      health: new SourceHealthTracker(),
    })),
  );
}
