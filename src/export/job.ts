import { z } from 'zod';
import type { JsonObject } from '../models/json';
import type { ManifestSourceStatus } from './manifest';

export type ExportStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type ExportFormat = 'JSONL' | 'CSV';
/** A source's part in an export: READING while it runs, then as the manifest says. */
export type ExportSourceState = 'READING' | ManifestSourceStatus;

export interface ExportSourceRecord {
  sourceId: string;
  vendor: string;
  status: ExportSourceState;
  eventsWritten: number;
  /** Why the source is INCOMPLETE (an upstream error code, `CANCELLED`, `GATEWAY_RESTARTED`). */
  errorCode: string | null;
  retainedFrom: string | null;
  notApplicableFields: string[];
  unusableRecords: number;
}

export interface ExportFileRecord {
  name: string;
  bytes: number;
  sha256: string;
}

export interface ExportError {
  code: string;
  message: string;
  sourceId: string | null;
}

/**
 * One export, as kept in memory and persisted as `<id>.json` in the exports directory at every
 * change of status, so that a restarted gateway knows what it had and what never finished.
 */
export interface ExportJob {
  version: 1;
  id: string;
  /** The principal that started it: the only one that may see or download it. */
  ownerId: string;
  status: ExportStatus;
  /** Every read source COMPLETE (true), some INCOMPLETE (false); null until it ends. */
  complete: boolean | null;
  filter: JsonObject;
  order: 'ASC' | 'DESC';
  formats: ExportFormat[];
  createdAt: string;
  asOf: string;
  completedAt: string | null;
  /** When its files and record are deleted; null while it runs. */
  expiresAt: string | null;
  progress: { eventsWritten: number; sourcesDone: number; sourcesTotal: number };
  sources: ExportSourceRecord[];
  /** The archive's data files. */
  files: ExportFileRecord[];
  /** The archive itself: its SHA-256 is the download's ETag. */
  archive: ExportFileRecord | null;
  manifestSha256: string | null;
  chainHash: string | null;
  error: ExportError | null;
}

const fileSchema = z.object({ name: z.string(), bytes: z.number().int().min(0), sha256: z.string() });

/** Checks a job file read back from disk. */
export const exportJobSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  ownerId: z.string(),
  status: z.enum(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']),
  complete: z.boolean().nullable(),
  filter: z.record(z.string(), z.json()),
  order: z.enum(['ASC', 'DESC']),
  formats: z.array(z.enum(['JSONL', 'CSV'])),
  createdAt: z.string(),
  asOf: z.string(),
  completedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  progress: z.object({ eventsWritten: z.number().int(), sourcesDone: z.number().int(), sourcesTotal: z.number().int() }),
  sources: z.array(
    z.object({
      sourceId: z.string(),
      vendor: z.string(),
      status: z.enum(['READING', 'COMPLETE', 'INCOMPLETE', 'SKIPPED', 'NOT_APPLICABLE']),
      eventsWritten: z.number().int(),
      errorCode: z.string().nullable(),
      retainedFrom: z.string().nullable(),
      notApplicableFields: z.array(z.string()),
      unusableRecords: z.number().int(),
    }),
  ),
  files: z.array(fileSchema),
  archive: fileSchema.nullable(),
  manifestSha256: z.string().nullable(),
  chainHash: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string(), sourceId: z.string().nullable() }).nullable(),
});
