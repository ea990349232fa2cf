import fs from 'node:fs';
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ErrorCode } from '../errors';
import { decodeExportId } from './export-id';
import type { ExportService } from './service';

/** The routes of exports, under `/exports/`, served by the composition root after it authenticated the caller. */
export const EXPORTS_PREFIX = '/exports/';
export const PUBLIC_KEY_PATH = '/exports/public-key';

/** `GET /exports/public-key`: the PEM manifests are verified with. Public: it proves, it grants nothing. */
export function servePublicKey(res: http.ServerResponse, service: ExportService | null): void {
  if (!service) return disabled(res);
  const { pem, keyId } = service.publicKey;
  res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem), 'x-key-id': keyId, 'cache-control': 'public, max-age=300' });
  res.end(pem);
}

/**
 * `GET|HEAD /exports/<id>`: the archive of a COMPLETED export of the caller, with its size and its
 * SHA-256 as a strong ETag (`If-None-Match` answers 304). Any other id, another caller's export,
 * one still running or expired, is a 404 that says nothing of which.
 */
export async function serveExportDownload(req: http.IncomingMessage, res: http.ServerResponse, service: ExportService | null, ownerId: string, idText: string): Promise<void> {
  if (!service) return disabled(res);
  const jobId = decodeExportId(idText);
  const download = jobId === null ? null : await service.download(jobId, ownerId);
  if (!download) return notFound(res);

  const etag = `"${download.sha256}"`;
  const headers = { etag, 'cache-control': 'private, no-cache', 'x-content-type-options': 'nosniff' };
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(download.path, 'r');
  } catch {
    // Expired and swept between the lookup and the open.
    return notFound(res);
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'application/zip',
    'content-length': download.bytes,
    'content-disposition': `attachment; filename="${download.fileName}"`,
  });
  if (req.method === 'HEAD') {
    await handle.close();
    res.end();
    return;
  }
  try {
    await pipeline(handle.createReadStream({ highWaterMark: 256 * 1024 }), res);
  } catch {
    // The client went away; the handle is closed by the stream.
  }
}

/** True when `If-None-Match` lists `etag` (weak comparison, as RFC 9110 has it for this header) or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

function notFound(res: http.ServerResponse): void {
  sendJson(res, 404, { errors: [{ message: 'no such export', extensions: { code: ErrorCode.NotFound } }] });
}

function disabled(res: http.ServerResponse): void {
  sendJson(res, 404, { errors: [{ message: 'evidence exports are not enabled on this gateway (server.exports)', extensions: { code: ErrorCode.ExportsDisabled } }] });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
