import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import yauzl from 'yauzl';
import type { ExportSettings } from '../../src/export/settings';
import type { TestGateway } from './gateway';

/** `server.exports` for a test gateway: a fresh key, `dir`, fast retries. */
export function exportSettings(dir: string, overrides: Partial<ExportSettings> = {}): ExportSettings & { publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    dir,
    signingKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ttlSeconds: 3600,
    tolerateSourceFailure: false,
    maxConcurrent: 4,
    sourceRetries: 1,
    compressionLevel: 1,
    ...overrides,
  };
}

export const EXPORT_FIELDS = `id status complete asOf orderDirection formats filter
  progress { eventsWritten sourcesDone sourcesTotal }
  sourceStatuses { sourceId status eventsWritten errorCode source { sourceId } }
  files { name bytes sha256 } archive { name bytes sha256 } manifestSha256 chainHash downloadUrl
  createdAt completedAt expiresAt error { code message sourceId }`;

export interface ExportView {
  id: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  complete: boolean | null;
  asOf: string;
  progress: { eventsWritten: number; sourcesDone: number; sourcesTotal: number };
  sourceStatuses: Array<{ sourceId: string; status: string; eventsWritten: number; errorCode: string | null; source: { sourceId: string } | null }>;
  files: Array<{ name: string; bytes: number; sha256: string }>;
  archive: { name: string; bytes: number; sha256: string } | null;
  manifestSha256: string | null;
  chainHash: string | null;
  downloadUrl: string | null;
  expiresAt: string | null;
  error: { code: string; message: string; sourceId: string | null } | null;
}

export async function startExport(setup: TestGateway, input: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<ExportView> {
  const response = await setup.query<{ startAuditExport: ExportView }>(`mutation ($input: StartAuditExportInput!) { startAuditExport(input: $input) { ${EXPORT_FIELDS} } }`, { input }, headers);
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data!.startAuditExport;
}

export async function exportById(setup: TestGateway, id: string, headers: Record<string, string> = {}): Promise<ExportView | null> {
  const response = await setup.query<{ auditExport: ExportView | null }>(`query ($id: ID!) { auditExport(id: $id) { ${EXPORT_FIELDS} } }`, { id }, headers);
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data!.auditExport;
}

/** Polls until the export has ended (or `until` holds). */
export async function waitForExport(
  setup: TestGateway,
  id: string,
  headers: Record<string, string> = {},
  until: (view: ExportView) => boolean = (view) => view.status !== 'RUNNING',
  timeoutMs = 30_000,
): Promise<ExportView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await exportById(setup, id, headers);
    if (!view) throw new Error('the export disappeared');
    if (until(view)) return view;
    if (Date.now() > deadline) throw new Error(`the export did not get there: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** GET (or HEAD) of a gateway path, the body as bytes. */
export async function fetchPath(setup: TestGateway, pathname: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const url = new URL(pathname, setup.gateway.url);
  const response = await request(url, { method, headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

/** Extracts a zip held in memory into `dir`, refusing anything but plain file names. */
export async function unzipTo(archive: Buffer, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const zip = await yauzl.fromBufferPromise(archive, { lazyEntries: true });
  const names: string[] = [];
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.includes('/')) throw new Error(`unexpected entry ${entry.fileName}`);
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    fs.writeFileSync(path.join(dir, entry.fileName), Buffer.concat(chunks));
    names.push(entry.fileName);
  }
  zip.close();
  return names;
}

/** The fields of an `auditEvents` node that an export's `events.jsonl` line is compared with. */
export const TRAVERSED_FIELDS = 'id occurredAt action sourceEventId source { sourceId } raw';

/** An `auditEvents` node selected with {@link TRAVERSED_FIELDS}. */
export interface TraversedEvent {
  id: string;
  occurredAt: string;
  action: string;
  sourceEventId: string;
  source: { sourceId: string };
  raw: unknown;
}
