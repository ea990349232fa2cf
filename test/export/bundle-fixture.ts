import { generateKeyPairSync, createHash, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CHAIN_START, chainedLine } from '../../src/export/chain';
import { CSV_HEADER, csvRecord } from '../../src/export/csv';
import type { ExportedEvent } from '../../src/export/event-record';
import { BUNDLE_FILES, MANIFEST_FORMAT, manifestBytes, type Manifest } from '../../src/export/manifest';
import { keyIdOf, publicKeyPem, signatureFile } from '../../src/export/signature';

/** A fresh Ed25519 key pair, the public half in PEM. */
export function keyPair(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKeyPem: publicKeyPem(privateKey) };
}

const AWKWARD = ['plain', 'with, comma', 'with "quotes"', 'line\r\nbreak', '=cmd|calc', '+1', '-2', '@sum', '\tTab', 'naïve €', '\u{1F600} emoji'];

/** `count` events of two sources, newest first, with text that CSV and JSON must escape. */
export function syntheticEvents(count: number): ExportedEvent[] {
  const events: ExportedEvent[] = [];
  for (let i = 0; i < count; i += 1) {
    const ms = Date.UTC(2026, 8, 30) - Math.floor(i / 2) * 1000;
    const sourceId = i % 2 === 0 ? 'beta' : 'alpha';
    const text = AWKWARD[i % AWKWARD.length]!;
    events.push({
      id: `id-${i}`,
      occurredAt: new Date(ms).toISOString(),
      sourceId,
      vendor: 'nirvana',
      sourceEventId: `e${String(i).padStart(5, '0')}`,
      action: `user.${text}`,
      category: 'ACCESS',
      failed: i % 3 === 0 ? null : i % 3 === 1,
      actor: { type: 'USER', sourceActorId: `u${i % 7}`, name: text, email: null, organizationId: null, application: null, automation: null, onBehalfOf: null },
      target: i % 4 === 0 ? null : { type: 'vm', sourceTargetId: `t${i}`, name: text, subtype: null, email: null },
      request: { clientIp: '192.0.2.7', userAgent: text, httpMethod: 'GET', path: '/x', statusCode: 200 + (i % 3), sessionId: null, traceId: null, requestId: `r${i}`, origin: null },
      repository: null,
      details: { note: text, n: i, nested: { z: 1, a: [text] } },
      integrity: null,
      raw: { zeta: text, alpha: i, list: [{ b: 2, a: 1 }] },
    });
  }
  // Newest first: time descending, then source and id descending.
  return events.sort((a, b) => (a.occurredAt === b.occurredAt ? (a.sourceId === b.sourceId ? (a.sourceEventId < b.sourceEventId ? 1 : -1) : a.sourceId < b.sourceId ? 1 : -1) : a.occurredAt < b.occurredAt ? 1 : -1));
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Writes a bundle's files into `dir` as the gateway writes them into its archive. */
export function writeBundleDir(dir: string, events: readonly ExportedEvent[], privateKey: KeyObject, formats: ReadonlyArray<'JSONL' | 'CSV'> = ['JSONL', 'CSV']): Manifest {
  let chain = CHAIN_START;
  let jsonl = '';
  let csv = CSV_HEADER;
  for (const event of events) {
    const { line, chainHash } = chainedLine(event, chain);
    chain = chainHash;
    jsonl += `${line}\n`;
    csv += csvRecord(event, chainHash);
  }
  const files = [];
  if (formats.includes('JSONL')) {
    fs.writeFileSync(path.join(dir, BUNDLE_FILES.jsonl), jsonl);
    files.push({ name: BUNDLE_FILES.jsonl, bytes: Buffer.byteLength(jsonl), sha256: sha256(jsonl), records: events.length });
  }
  if (formats.includes('CSV')) {
    fs.writeFileSync(path.join(dir, BUNDLE_FILES.csv), csv);
    files.push({ name: BUNDLE_FILES.csv, bytes: Buffer.byteLength(csv), sha256: sha256(csv), records: events.length });
  }
  const count = (sourceId: string) => events.filter((event) => event.sourceId === sourceId).length;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    exportId: 'fixture',
    gateway: { name: 'audit-gateway', version: 'test' },
    createdAt: '2026-10-01T00:00:00.000Z',
    completedAt: '2026-10-01T00:00:01.000Z',
    asOf: '2026-09-30T23:59:59.999Z',
    filter: { from: '2026-07-01T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z', categories: ['ACCESS'] },
    orderBy: { field: 'OCCURRED_AT', direction: 'DESC' },
    complete: true,
    sources: ['alpha', 'beta'].map((sourceId) => ({ sourceId, vendor: 'nirvana', status: 'COMPLETE' as const, events: count(sourceId), errorCode: null, retainedFrom: null, notApplicableFields: [], unusableRecords: 0 })),
    events: { count: events.length, chain: { algorithm: 'SHA-256', canonicalization: 'RFC 8785', start: CHAIN_START, final: chain } },
    files,
    signature: { algorithm: 'Ed25519', keyId: keyIdOf(privateKey), publicKey: publicKeyPem(privateKey) },
  };
  const bytes = manifestBytes(manifest);
  fs.writeFileSync(path.join(dir, BUNDLE_FILES.manifest), bytes);
  fs.writeFileSync(path.join(dir, BUNDLE_FILES.signature), signatureFile(bytes, privateKey));
  return manifest;
}

/** The 1-based line of the byte at `offset`: a line feed belongs to the line it ends. */
export function lineOfOffset(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i += 1) if (bytes[i] === 0x0a) line += 1;
  return line;
}
