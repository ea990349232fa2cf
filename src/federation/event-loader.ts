import DataLoader from 'dataloader';
import type { RecentEvents } from '../cache/recent-events';
import type { AuditEventModel } from '../models/audit-event';
import type { SourceRegistry } from '../sources/registry';
import { decodeGlobalId } from './global-id';

/**
 * A per-request loader of events by global id. Ids are grouped by source so that each source is
 * asked once per event, concurrently; an id of an unknown source, or of another type, is null
 * (it names nothing this gateway can show). Errors are per key and live only as long as the
 * request, so a source that fails and recovers is asked again by the next request.
 */
export function createEventLoader(sources: SourceRegistry, recent: RecentEvents, signal: AbortSignal): DataLoader<string, AuditEventModel | null> {
  return new DataLoader<string, AuditEventModel | null>(
    async (ids) =>
      Promise.all(
        ids.map(async (id): Promise<AuditEventModel | null | Error> => {
          let decoded;
          try {
            decoded = decodeGlobalId(id);
          } catch (error) {
            return error as Error;
          }
          if (decoded.type !== 'AuditEvent') return null;
          const source = sources.get(decoded.sourceId);
          if (!source) return null;
          const seen = recent.get(id);
          if (seen) return seen;
          try {
            return await source.dataSource.getEvent({ sourceEventId: decoded.sourceEventId, occurredAtMs: decoded.occurredAtMs }, signal);
          } catch (error) {
            return error as Error;
          }
        }),
      ),
    { maxBatchSize: 100 },
  );
}
