import type { AuditDataSource, ListEventsRequest } from '../sources/data-source';

/** Resume states remembered per source, to count a batch fetched again (after a retry) once. */
const REMEMBERED = 16;

/**
 * The datasource, reporting the unusable records of each batch it fetches upstream. An export
 * counts them here rather than on its streams, which count every read of a batch, cached or
 * not, and are reopened from their state as the export goes (re-reading a batch from the cache).
 */
export function countingUnusableRecords(dataSource: AuditDataSource, onUnusable: (count: number) => void): AuditDataSource {
  const counted: string[] = [];
  const listEvents = async (request: ListEventsRequest) => {
    const result = await dataSource.listEvents(request);
    const key = JSON.stringify(request.resume);
    if (result.unusableRecords && !counted.includes(key)) {
      onUnusable(result.unusableRecords);
      counted.push(key);
      if (counted.length > REMEMBERED) counted.shift();
    }
    return result;
  };
  return new Proxy(dataSource, {
    get(target, property) {
      if (property === 'listEvents') return listEvents;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
