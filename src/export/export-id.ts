import { randomUUID } from 'node:crypto';

/**
 * The ids of exports. Internally a random UUID, which names the files in `server.exports.dir`
 * and cannot be guessed; outside, an opaque global id in the gateway's form (base64url of a JSON
 * array, tagged `AX`), used in `AuditExport.id`, `node(id)` and `/exports/<id>`.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newExportJobId(): string {
  return randomUUID();
}

export function isExportJobId(text: string): boolean {
  return UUID.test(text);
}

export function encodeExportId(jobId: string): string {
  return Buffer.from(JSON.stringify(['AX', jobId]), 'utf8').toString('base64url');
}

/** The job id of an export's global id; null when `text` is not an export id (it may be another global id, or garbage). */
export function decodeExportId(text: string): string | null {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parts) || parts.length !== 2 || parts[0] !== 'AX' || typeof parts[1] !== 'string' || !isExportJobId(parts[1])) return null;
  // One text per id: a re-encoding that differs (padding bits) is not this id.
  return encodeExportId(parts[1]) === text ? parts[1] : null;
}
