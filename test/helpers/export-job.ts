import { newExportJobId } from '../../src/export/export-id';
import type { ExportJob } from '../../src/export/job';

/** A running export job of one source, as a job store holds it; `overrides` replace any field. */
export function jobRecord(overrides: Partial<ExportJob> = {}): ExportJob {
  return {
    version: 1,
    id: newExportJobId(),
    ownerId: 'anonymous',
    status: 'RUNNING',
    complete: null,
    filter: {},
    order: 'DESC',
    formats: ['JSONL', 'CSV'],
    createdAt: new Date().toISOString(),
    asOf: new Date().toISOString(),
    completedAt: null,
    expiresAt: null,
    progress: { eventsWritten: 0, sourcesDone: 0, sourcesTotal: 1 },
    sources: [{ sourceId: 'a', vendor: 'nirvana', status: 'READING', eventsWritten: 0, errorCode: null, retainedFrom: null, notApplicableFields: [], unusableRecords: 0 }],
    files: [],
    archive: null,
    manifestSha256: null,
    chainHash: null,
    error: null,
    ...overrides,
  };
}
