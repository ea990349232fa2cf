import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHAIN_START, chainedLine } from '../../src/export/chain';
import { BUNDLE_FILES, manifestBytes } from '../../src/export/manifest';
import { signatureFile } from '../../src/export/signature';
import { verifyExport } from '../../src/export/verify';
import { keyPair, lineOfOffset, syntheticEvents, writeBundleDir } from './bundle-fixture';

describe('verifyExport on a bundle directory', () => {
  const key = keyPair();
  const events = syntheticEvents(60);
  let base: string;
  let dir: string;

  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-test-'));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(base, 'bundle-'));
    writeBundleDir(dir, events, key.privateKey);
  });

  const file = (name: string) => path.join(dir, name);

  it('accepts an untouched bundle, with the gateway key or the one the manifest names', async () => {
    const withKey = await verifyExport(dir, { publicKeyPem: key.publicKeyPem });
    expect(withKey).toMatchObject({ status: 'ok', events: 60, complete: true, keyFromManifest: false });
    expect(await verifyExport(dir)).toMatchObject({ status: 'ok', keyFromManifest: true });
  });

  it('names the file and line of any single changed byte of any file', async () => {
    const names = [BUNDLE_FILES.jsonl, BUNDLE_FILES.csv, BUNDLE_FILES.manifest, BUNDLE_FILES.signature];
    const original = new Map(names.map((name) => [name, fs.readFileSync(file(name))]));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 255 }), async (name, where, xor) => {
        const bytes = Buffer.from(original.get(name)!);
        const offset = Math.floor(where * bytes.length);
        bytes[offset] = bytes[offset]! ^ xor;
        fs.writeFileSync(file(name), bytes);
        try {
          const result = await verifyExport(dir, { publicKeyPem: key.publicKeyPem });
          expect(result).toMatchObject({ status: 'tampered', file: name });
          if (name === BUNDLE_FILES.jsonl || name === BUNDLE_FILES.csv) expect(result).toMatchObject({ line: lineOfOffset(bytes, offset) });
        } finally {
          fs.writeFileSync(file(name), original.get(name)!);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a manifest signed by another key', async () => {
    const other = keyPair();
    fs.writeFileSync(file(BUNDLE_FILES.signature), signatureFile(fs.readFileSync(file(BUNDLE_FILES.manifest)), other.privateKey));
    const result = await verifyExport(dir, { publicKeyPem: key.publicKeyPem });
    expect(result).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.manifest });
    expect(result.status === 'tampered' && result.problem).toMatch(/does not verify/);
  });

  it('finds a dropped, an added and a reordered line, and a truncated file', async () => {
    const lines = fs.readFileSync(file(BUNDLE_FILES.jsonl), 'utf8').split('\n').slice(0, -1);
    const write = (kept: string[]) => fs.writeFileSync(file(BUNDLE_FILES.jsonl), kept.map((line) => `${line}\n`).join(''));
    write([...lines.slice(0, 10), ...lines.slice(11)]);
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.jsonl, line: 11 });
    write([...lines.slice(0, 4), lines[5]!, lines[4]!, ...lines.slice(6)]);
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.jsonl, line: 5 });
    write(lines.slice(0, 59));
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.jsonl, line: 60 });
    // A well-chained line appended at the end: the chain holds, the signed count and final hash do not.
    const { line } = chainedLine({ ...events[0]!, id: 'forged' }, (JSON.parse(lines[59]!) as { chainHash: string }).chainHash);
    write([...lines, line]);
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.jsonl });
  });

  it('refuses a rewritten chain even when every link is consistent, since the manifest signs its end', async () => {
    const forged = events.map((event, index) => (index === 7 ? { ...event, action: 'forged' } : event));
    let chain = CHAIN_START;
    const text = forged.map((event) => {
      const { line, chainHash } = chainedLine(event, chain);
      chain = chainHash;
      return `${line}\n`;
    });
    fs.writeFileSync(file(BUNDLE_FILES.jsonl), text.join(''));
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.jsonl });
  });

  it('refuses files the manifest does not list, and missing ones', async () => {
    fs.writeFileSync(file('notes.txt'), 'extra');
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: 'notes.txt' });
    fs.rmSync(file('notes.txt'));
    fs.rmSync(file(BUNDLE_FILES.csv));
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.csv });
  });

  it('checks a CSV-only bundle by its structure, count, last link and hash', async () => {
    const csvOnly = fs.mkdtempSync(path.join(base, 'csv-'));
    writeBundleDir(csvOnly, events, key.privateKey, ['CSV']);
    expect(await verifyExport(csvOnly, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'ok', events: 60 });
    const bytes = fs.readFileSync(path.join(csvOnly, BUNDLE_FILES.csv));
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 1;
    fs.writeFileSync(path.join(csvOnly, BUNDLE_FILES.csv), bytes);
    expect(await verifyExport(csvOnly, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.csv });
  });

  it('calls input it cannot use unusable: no such path, no manifest, a bad key, not an archive', async () => {
    expect(await verifyExport(path.join(base, 'missing'))).toMatchObject({ status: 'unusable' });
    expect(await verifyExport(base)).toMatchObject({ status: 'unusable', problem: expect.stringMatching(/no manifest.json/) });
    expect(await verifyExport(dir, { publicKeyPem: 'not a key' })).toMatchObject({ status: 'unusable' });
    const text = path.join(base, 'file.txt');
    fs.writeFileSync(text, 'hello');
    expect(await verifyExport(text)).toMatchObject({ status: 'unusable' });
  });

  it('reports an incomplete bundle as intact but incomplete', async () => {
    const manifest = JSON.parse(fs.readFileSync(file(BUNDLE_FILES.manifest), 'utf8')) as import('../../src/export/manifest').Manifest;
    manifest.complete = false;
    manifest.sources[0]!.status = 'INCOMPLETE';
    manifest.sources[0]!.errorCode = 'UPSTREAM_UNAVAILABLE';
    const bytes = manifestBytes(manifest);
    fs.writeFileSync(file(BUNDLE_FILES.manifest), bytes);
    fs.writeFileSync(file(BUNDLE_FILES.signature), signatureFile(bytes, key.privateKey));
    expect(await verifyExport(dir, { publicKeyPem: key.publicKeyPem })).toMatchObject({ status: 'ok', complete: false, incompleteSources: ['alpha'] });
  });
});
