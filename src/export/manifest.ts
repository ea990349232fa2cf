import { z } from 'zod';
import type { JsonObject } from '../models/json';

/** What `manifest.format` says of this layout; a verifier refuses any other. */
export const MANIFEST_FORMAT = 'audit-gateway/evidence-export/v1';

/** The entries of a bundle. */
export const BUNDLE_FILES = {
  jsonl: 'events.jsonl',
  csv: 'events.csv',
  manifest: 'manifest.json',
  signature: 'manifest.sig',
} as const;

/** How a source took part in an export. */
export type ManifestSourceStatus = 'COMPLETE' | 'INCOMPLETE' | 'SKIPPED' | 'NOT_APPLICABLE';

export interface ManifestSource {
  sourceId: string;
  vendor: string;
  status: ManifestSourceStatus;
  /** Events of this source in the bundle. */
  events: number;
  /** Why an INCOMPLETE source stopped (e.g. `UPSTREAM_UNAVAILABLE`, `CANCELLED`); null otherwise. */
  errorCode: string | null;
  /** Set when the filter's window starts before what the source still keeps: older events are gone upstream. */
  retainedFrom: string | null;
  /** For NOT_APPLICABLE: the filter fields its records never carry. */
  notApplicableFields: string[];
  /** Records the vendor sent without a usable time or identity, left out as the record policy says. */
  unusableRecords: number;
}

export interface ManifestFile {
  name: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
  /** Lines of `events.jsonl`, records of `events.csv` after its header: one per event. */
  records: number;
}

/** `manifest.json`: what the bundle holds and where it came from, signed as it is written. */
export interface Manifest {
  [member: string]: unknown;
  format: typeof MANIFEST_FORMAT;
  exportId: string;
  gateway: { name: string; version: string };
  createdAt: string;
  completedAt: string;
  /** The snapshot: no event after this instant is in the bundle (as `AuditEventConnection.asOf`). */
  asOf: string;
  /** The `AuditEventFilter` as given (instants in ISO 8601), empty for none. */
  filter: JsonObject;
  orderBy: { field: 'OCCURRED_AT'; direction: 'ASC' | 'DESC' };
  /** False when a source is INCOMPLETE: the bundle then lacks some of that source's events. */
  complete: boolean;
  sources: ManifestSource[];
  events: {
    count: number;
    chain: { algorithm: 'SHA-256'; canonicalization: 'RFC 8785'; start: string; final: string };
  };
  files: ManifestFile[];
  signature: { algorithm: 'Ed25519'; keyId: string; publicKey: string };
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().min(0);

/** Checks a parsed `manifest.json` (loosely: later gateways may add members). */
export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  exportId: z.string(),
  gateway: z.object({ name: z.string(), version: z.string() }),
  createdAt: z.string(),
  completedAt: z.string(),
  asOf: z.string(),
  filter: z.record(z.string(), z.unknown()),
  orderBy: z.object({ field: z.literal('OCCURRED_AT'), direction: z.enum(['ASC', 'DESC']) }),
  complete: z.boolean(),
  sources: z.array(
    z.object({
      sourceId: z.string(),
      vendor: z.string(),
      status: z.enum(['COMPLETE', 'INCOMPLETE', 'SKIPPED', 'NOT_APPLICABLE']),
      events: count,
      errorCode: z.string().nullable(),
      retainedFrom: z.string().nullable(),
      notApplicableFields: z.array(z.string()),
      unusableRecords: count,
    }),
  ),
  events: z.object({
    count,
    chain: z.object({ algorithm: z.literal('SHA-256'), canonicalization: z.literal('RFC 8785'), start: hex64, final: hex64 }),
  }),
  files: z
    .array(z.object({ name: z.enum([BUNDLE_FILES.jsonl, BUNDLE_FILES.csv]), bytes: count, sha256: hex64, records: count }))
    .min(1),
  signature: z.object({ algorithm: z.literal('Ed25519'), keyId: hex64, publicKey: z.string() }),
});

/** The bytes of `manifest.json`: indented for people, signed exactly as written. */
export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}
