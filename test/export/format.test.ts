import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson } from '../../src/models/canonical-json';
import { appendChainedLine, CHAIN_START, chainedLine, checkChainedLine, nextChainHash } from '../../src/export/chain';
import { CSV_HEADER, csvField, csvRecord } from '../../src/export/csv';
import { decodeExportId, encodeExportId, newExportJobId } from '../../src/export/export-id';
import { ed25519PrivateKey, ed25519PublicKey, keyIdOf, publicKeyPem, readSignatureFile, signatureFile, verifyManifestSignature } from '../../src/export/signature';
import { syntheticEvents } from './bundle-fixture';

describe('the chain', () => {
  it('links each line to the previous one through the canonical JSON of its event', () => {
    const [first, second] = syntheticEvents(2);
    const one = chainedLine(first!, CHAIN_START);
    const two = chainedLine(second!, one.chainHash);
    expect(one.chainHash).toBe(nextChainHash(CHAIN_START, canonicalJson(first)));
    expect(two.chainHash).toBe(nextChainHash(one.chainHash, canonicalJson(second)));
    // The line is the canonical JSON of the event with its chainHash member.
    expect(one.line).toBe(canonicalJson({ ...first, chainHash: one.chainHash }));
    expect(checkChainedLine(two.line, one.chainHash)).toMatchObject({ ok: true, chainHash: two.chainHash });
    expect(checkChainedLine(two.line, CHAIN_START)).toMatchObject({ ok: false });
    expect(checkChainedLine(` ${two.line}`, one.chainHash)).toMatchObject({ ok: false, problem: expect.stringMatching(/canonical/) });
  });
  it('is the same line and link when encoded straight into a buffer, for any event and any text', () => {
    // A sink whose buffer fills up at random places, as the data file's does: the link is still
    // written into the place left for it, and the hash covers the bytes around it.
    const event = fc.dictionary(fc.string(), fc.jsonValue()).filter((value) => !('chainHash' in value));
    const events = fc.oneof(event, fc.constantFrom({}, { a: 1 }, { z: 'é€😀' }, { category: null, details: { x: [1] } }));
    fc.assert(
      fc.property(events, fc.stringMatching(/^[0-9a-f]{64}$/), fc.array(fc.nat(300)), (value, previous, room) => {
        const chunks: Buffer[] = [];
        let chunk = Buffer.alloc(0);
        let offset = 0;
        const sink = {
          append(text: string): Buffer {
            if (chunk.length - offset < text.length * 3) {
              chunks.push(chunk.subarray(0, offset));
              chunk = Buffer.alloc(text.length * 3 + (room.pop() ?? 0));
              offset = 0;
            }
            const start = offset;
            offset += chunk.write(text, start, 'utf8');
            return chunk.subarray(start, offset);
          },
        };
        const link = appendChainedLine(sink, value, previous);
        const line = Buffer.concat([...chunks, chunk.subarray(0, offset)]).toString('utf8');
        expect(link).toBe(nextChainHash(previous, canonicalJson(value)));
        expect(line).toBe(canonicalJson({ ...value, chainHash: link }));
        expect(chainedLine(value, previous)).toEqual({ line, chainHash: link });
      }),
      { numRuns: 300 },
    );
  });
});

describe('CSV fields', () => {
  it('quote as RFC 4180 says and defuse what a spreadsheet would run as a formula', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(200)).toBe('200');
    expect(csvField(false)).toBe('false');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(csvField(`${start}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
  });

  it('make one CRLF-terminated record per event, with as many fields as the header', () => {
    const [event] = syntheticEvents(1);
    const record = csvRecord(event!, 'f'.repeat(64));
    expect(record.endsWith(`,${'f'.repeat(64)}\r\n`)).toBe(true);
    expect(CSV_HEADER.startsWith('id,occurred_at,source_id,')).toBe(true);
    expect(CSV_HEADER.endsWith(',details,chain_hash\r\n')).toBe(true);
  });
});

describe('signatures', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const manifest = Buffer.from('{"a":1}\n');

  it('sign the manifest bytes with Ed25519 and verify with the public key only', () => {
    const file = Buffer.from(signatureFile(manifest, privateKey), 'latin1');
    const read = readSignatureFile(file);
    if (!('signature' in read)) throw new Error(read.problem);
    const publicKey = ed25519PublicKey(publicKeyPem(privateKey));
    expect(verifyManifestSignature(manifest, read.signature, publicKey)).toBe(true);
    expect(verifyManifestSignature(Buffer.from('{"a":2}\n'), read.signature, publicKey)).toBe(false);
    expect(keyIdOf(publicKey)).toBe(keyIdOf(privateKey));
  });

  it('refuse keys that are not Ed25519, without quoting them', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => ed25519PrivateKey(rsa)).toThrow('an Ed25519 key is required, not rsa');
    expect(() => ed25519PrivateKey('secret-looking text')).toThrow(/^not a private key in PEM$/);
  });

  it('tell a damaged signature file from a changed manifest', () => {
    const text = signatureFile(manifest, privateKey);
    expect(readSignatureFile(Buffer.from(text.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))))).toMatchObject({ line: 2 });
    expect(readSignatureFile(Buffer.from(text.slice(0, -1)))).toMatchObject({ problem: expect.any(String) });
  });
});

describe('export ids', () => {
  it('are opaque global ids of a random UUID, and nothing else decodes as one', () => {
    const jobId = newExportJobId();
    const id = encodeExportId(jobId);
    expect(decodeExportId(id)).toBe(jobId);
    expect(decodeExportId(Buffer.from(JSON.stringify(['AX', '../../etc/passwd'])).toString('base64url'))).toBeNull();
    expect(decodeExportId(Buffer.from(JSON.stringify(['S', 'nirvana-main'])).toString('base64url'))).toBeNull();
    expect(decodeExportId('not base64!')).toBeNull();
  });
});

describe('exported events', () => {
  it('are built with their members in canonical order, so that the writer never sorts them', async () => {
    const { toExportedEvent } = await import('../../src/export/to-record');
    const { fakeEvent } = await import('../connection/fake-source');
    const event = fakeEvent('alpha', 'e1', 1_000);
    const exported = toExportedEvent({
      ...event,
      actor: { ...event.actor, onBehalfOf: { ...event.actor } },
      target: { sourceId: 'alpha', sourceTargetId: 't', type: 'vm', name: null },
      request: { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: 201, sessionId: null, traceId: null, requestId: null, origin: null },
      repository: { sourceRepositoryId: 'r', name: null },
      integrity: { hash: 'h', previousHash: null },
    });
    const inOrder = (value: unknown): boolean => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return true;
      const names = Object.keys(value);
      return names.join('\u0000') === [...names].sort().join('\u0000') && Object.values(value).every((member) => member === exported.raw || member === exported.details || inOrder(member));
    };
    expect(inOrder(exported)).toBe(true);
    expect(Object.keys(exported)).toHaveLength(15);
  });
});
