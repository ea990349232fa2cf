import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { openBundle, BundleUnreadable, type BundleReader } from './bundle-reader';
import { BUNDLE_FILES, manifestSchema, type Manifest } from './manifest';
import { lineFeeds } from './lines';
import { ed25519PublicKey, keyIdOf, readSignatureFile, verifyManifestSignature } from './signature';
import { checkCsvAgainstJsonl, checkCsvAlone, checkJsonl, fileProblem, type FileProblem } from './verify-data';

/** Options of {@link verifyExport}. */
export interface VerifyOptions {
  /**
   * The gateway's public key in PEM (`Query.exportPublicKey`, `GET /exports/public-key`). Without
   * it the key the manifest names is used, which proves the files are as that key signed them, not
   * that the gateway signed them.
   */
  publicKeyPem?: string | null;
}

/** What {@link verifyExport} found. */
export type VerifyResult =
  | {
      status: 'ok';
      exportId: string;
      events: number;
      /** False when the manifest marks a source INCOMPLETE: the bundle is intact but lacks some of its events. */
      complete: boolean;
      incompleteSources: string[];
      keyId: string;
      /** True when the key came from the manifest itself rather than from `publicKeyPem`. */
      keyFromManifest: boolean;
      finalChainHash: string;
    }
  /** A file differs from what was signed: `file` is the first such file, `line` (1-based) where known. */
  | { status: 'tampered'; file: string; line: number | null; problem: string }
  /** The input is not a bundle, or the public key is unusable. */
  | { status: 'unusable'; problem: string };

type Tampered = Extract<VerifyResult, { status: 'tampered' }>;


const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const MAX_SIGNATURE_BYTES = 1024;

/**
 * Verifies an evidence bundle without the gateway: the archive the gateway serves, or a directory
 * holding its files. Checks the Ed25519 signature of `manifest.json`, then every file the manifest
 * lists: `events.jsonl` line by line (canonical form, chain, order, sources), `events.csv` record by
 * record against the records `events.jsonl` determines, and each file's size, SHA-256 and count.
 * Reports the first file (and line) that differs from what was signed.
 */
export async function verifyExport(target: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  let trustedKey: KeyObject | null = null;
  if (options.publicKeyPem != null) {
    try {
      trustedKey = ed25519PublicKey(options.publicKeyPem);
    } catch (error) {
      return { status: 'unusable', problem: `the public key: ${(error as Error).message}` };
    }
  }
  let bundle: BundleReader;
  try {
    bundle = await openBundle(target);
  } catch (error) {
    if (!(error instanceof BundleUnreadable)) throw error;
    return error.damaged ? { status: 'tampered', file: path.basename(target), line: null, problem: error.message } : { status: 'unusable', problem: error.message };
  }
  try {
    return await verifyBundle(bundle, trustedKey);
  } finally {
    bundle.close();
  }
}

async function verifyBundle(bundle: BundleReader, trustedKey: KeyObject | null): Promise<VerifyResult> {
  if (!bundle.names.includes(BUNDLE_FILES.manifest)) return { status: 'unusable', problem: `not an evidence bundle: no ${BUNDLE_FILES.manifest}` };
  if (!bundle.names.includes(BUNDLE_FILES.signature)) return tampered(BUNDLE_FILES.signature, null, 'missing');

  const manifestRead = await readSmall(bundle, BUNDLE_FILES.manifest, MAX_MANIFEST_BYTES);
  if ('problem' in manifestRead) return tampered(BUNDLE_FILES.manifest, null, manifestRead.problem);
  const signatureRead = await readSmall(bundle, BUNDLE_FILES.signature, MAX_SIGNATURE_BYTES);
  if ('problem' in signatureRead) return tampered(BUNDLE_FILES.signature, null, signatureRead.problem);
  const signatureFile = readSignatureFile(signatureRead.bytes);
  if ('problem' in signatureFile) return tampered(BUNDLE_FILES.signature, signatureFile.line, signatureFile.problem);

  const manifestText = manifestRead.bytes.toString('utf8');
  const parsed = parseManifest(manifestText);
  if ('problem' in parsed) return tampered(BUNDLE_FILES.manifest, parsed.line, parsed.problem);
  const manifest = parsed.manifest;

  let key = trustedKey;
  if (key === null) {
    try {
      key = ed25519PublicKey(manifest.signature.publicKey);
    } catch (error) {
      return tampered(BUNDLE_FILES.manifest, lineContaining(manifestText, '"publicKey"'), `signature.publicKey: ${(error as Error).message}`);
    }
  }
  const keyId = keyIdOf(key);
  const signed = verifyManifestSignature(manifestRead.bytes, signatureFile.signature, key);

  // The files are checked even when the signature fails: a manifest that contradicts the files
  // it lists is the file that was changed, and the contradiction says on which line.
  const problem = await checkFiles(bundle, manifest);
  if (!signed) {
    const claimLine = problem?.claim ? lineContaining(manifestText, problem.claim) : null;
    const signer = manifest.signature.keyId === keyId ? '' : ` (the manifest names key ${manifest.signature.keyId})`;
    return tampered(
      BUNDLE_FILES.manifest,
      claimLine,
      `the Ed25519 signature in ${BUNDLE_FILES.signature} does not verify over it with key ${keyId}${signer}: the manifest was changed, or another key signed it`,
    );
  }
  if (problem) return { status: 'tampered', file: problem.file, line: problem.line, problem: problem.problem };
  if (trustedKey === null && manifest.signature.keyId !== keyId) return tampered(BUNDLE_FILES.manifest, lineContaining(manifestText, '"keyId"'), 'signature.keyId does not name the key it carries');

  const incompleteSources = manifest.sources.filter((source) => source.status === 'INCOMPLETE').map((source) => source.sourceId);
  return {
    status: 'ok',
    exportId: manifest.exportId,
    events: manifest.events.count,
    complete: manifest.complete,
    incompleteSources,
    keyId,
    keyFromManifest: trustedKey === null,
    finalChainHash: manifest.events.chain.final,
  };
}

function tampered(file: string, line: number | null, problem: string): Tampered {
  return { status: 'tampered', file, line, problem };
}

async function readSmall(bundle: BundleReader, name: string, limit: number): Promise<{ bytes: Buffer } | { problem: string }> {
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of await bundle.open(name)) {
      size += (chunk as Buffer).length;
      if (size > limit) return { problem: `larger than ${limit} bytes` };
      chunks.push(chunk as Buffer);
    }
    return { bytes: Buffer.concat(chunks) };
  } catch (error) {
    return { problem: `cannot be read (${(error as Error).message})` };
  }
}

function parseManifest(text: string): { manifest: Manifest } | { problem: string; line: number | null } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    const line = /line (\d+)/.exec(message)?.[1];
    return { problem: 'not valid JSON', line: line ? Number(line) : position ? lineFeeds(text.slice(0, Number(position))) + 1 : null };
  }
  const checked = manifestSchema.safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const member = issue.path.filter((part) => typeof part === 'string').pop();
    return { problem: `${issue.path.join('.') || 'the manifest'}: ${issue.message}`, line: member ? lineContaining(text, `"${member}"`) : null };
  }
  return { manifest: checked.data as Manifest };
}

/** The 1-based line of the first occurrence of `needle`, or null. */
function lineContaining(text: string, needle: string): number | null {
  const at = text.indexOf(needle);
  return at < 0 ? null : lineFeeds(text.slice(0, at)) + 1;
}

/** The first problem of the listed files, or null when each is exactly as the manifest says. */
async function checkFiles(bundle: BundleReader, manifest: Manifest): Promise<FileProblem | null> {
  const listed = new Set<string>([BUNDLE_FILES.manifest, BUNDLE_FILES.signature, ...manifest.files.map((file) => file.name)]);
  for (const file of manifest.files) if (!bundle.names.includes(file.name)) return fileProblem(file.name, null, 'missing', `"${file.name}"`);
  const extra = bundle.names.find((name) => !listed.has(name));
  if (extra !== undefined) return fileProblem(extra, null, 'not listed in the manifest');

  for (const file of manifest.files) {
    let problem: FileProblem | null;
    try {
      if (file.name === BUNDLE_FILES.jsonl) problem = await checkJsonl(await bundle.open(file.name), manifest);
      else if (bundle.names.includes(BUNDLE_FILES.jsonl) && manifest.files.some((other) => other.name === BUNDLE_FILES.jsonl)) {
        problem = await checkCsvAgainstJsonl(await bundle.open(file.name), await bundle.open(BUNDLE_FILES.jsonl), manifest);
      } else problem = await checkCsvAlone(await bundle.open(file.name), manifest);
    } catch (error) {
      problem = fileProblem(file.name, null, `cannot be read (${(error as Error).message})`);
    }
    if (problem) return problem;
  }
  return null;
}
