import { CursorCodec, type TraversalCursor } from '../../src/connection/cursor';

const payload: TraversalCursor = {
  queryFingerprint: 'fingerprint',
  snapshotMs: 1_700_000_000_000,
  issuedAtSeconds: 1_700_000_000,
  traversal: 'DESC',
  position: [1_700_000_000_000, 'src', 'id-1'],
  resume: { kind: 'sources', states: { src: { r: { c: 'abc' }, k: [1_700_000_000_000, 'id-1'] } }, origin: null },
};

describe('CursorCodec', () => {
  const codec = new CursorCodec({ secret: 'k'.repeat(32), ttlSeconds: 3600 });
  const now = payload.issuedAtSeconds * 1000 + 1000;

  it('round-trips a payload', () => {
    expect(codec.decode(codec.encode(payload), 'after', now)).toEqual(payload);
  });

  it('is base64url and stable for the same payload and key', () => {
    const cursor = codec.encode(payload);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.encode(payload)).toBe(cursor);
  });

  it('refuses every single-bit change as malformed or a signature mismatch', () => {
    const bytes = Buffer.from(codec.encode(payload), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = tampered[i]! ^ 0x04;
      expect(() => codec.decode(tampered.toString('base64url'), 'after', now)).toThrow(/malformed cursor|signature mismatch/);
    }
  });

  it('refuses a cursor signed with another key, with the same text as a tampered one', () => {
    const other = new CursorCodec({ secret: 'z'.repeat(32), ttlSeconds: 3600 });
    expect(() => codec.decode(other.encode(payload), 'before', now)).toThrow('before: cursor signature mismatch');
  });

  it('accepts a cursor of a previous key during its grace period', () => {
    const old = new CursorCodec({ secret: 'o'.repeat(32), ttlSeconds: 3600 });
    const rotated = new CursorCodec({ secret: 'n'.repeat(32), previousSecrets: [{ secret: 'o'.repeat(32), untilMs: now + 1 }], ttlSeconds: 3600 });
    expect(rotated.decode(old.encode(payload), 'after', now)).toEqual(payload);
  });

  it('refuses a cursor of a retired key after its end as CURSOR_EXPIRED, and a forged one as CURSOR_INVALID', () => {
    const old = new CursorCodec({ secret: 'o'.repeat(32), ttlSeconds: 3600 });
    const rotated = new CursorCodec({ secret: 'n'.repeat(32), previousSecrets: [{ secret: 'o'.repeat(32), untilMs: now - 1 }], ttlSeconds: 3600 });
    const refusal = (text: string) => {
      try {
        rotated.decode(text, 'after', now);
      } catch (error) {
        return (error as { extensions: Record<string, unknown>; message: string });
      }
      throw new Error('accepted');
    };
    expect(refusal(old.encode(payload))).toMatchObject({ message: 'after: cursor signed with a retired key; restart the traversal from the first page', extensions: { reason: 'CURSOR_EXPIRED' } });
    const forged = Buffer.from(old.encode(payload), 'base64url');
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
    expect(refusal(forged.toString('base64url'))).toMatchObject({ extensions: { reason: 'CURSOR_INVALID' } });
  });

  it('refuses a cursor older than its TTL as CURSOR_EXPIRED', () => {
    let thrown: unknown;
    try {
      codec.decode(codec.encode(payload), 'after', payload.issuedAtSeconds * 1000 + 3601 * 1000);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as { extensions: Record<string, unknown> }).extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_EXPIRED' });
  });

  it('refuses text that is not a cursor', () => {
    for (const text of ['', '%%%', 'AQID', 'a'.repeat(20_000)]) expect(() => codec.decode(text, 'after', now)).toThrow('after: malformed cursor');
  });
});

describe('CursorCodec compaction', () => {
  const codec = new CursorCodec({ secret: 'k'.repeat(32), ttlSeconds: 3600 });
  const many: TraversalCursor = {
    ...payload,
    resume: {
      kind: 'sources',
      states: Object.fromEntries(
        ['port-main', 'nirvana-main', 'asana-main', 'agilicus-main', 'complianceagent-main'].map((id, i) => [id, { r: { c: `token-${i}-abcdefgh` }, k: [1_700_000_000_000 + i, `e7d2c1a0-5b4f-4a3e-9c8d-00000000000${i}`] as [number, string] }]),
      ),
      origin: null,
    },
  };

  it('deflates large payloads and round-trips them', () => {
    const cursor = codec.encode(many);
    expect(Buffer.from(cursor, 'base64url')[0]).toBe(2);
    expect(cursor.length).toBeLessThan(Buffer.from(JSON.stringify(many.resume)).toString('base64url').length * 0.75);
    expect(codec.decode(cursor, 'after', many.issuedAtSeconds * 1000)).toEqual(many);
  });

  it('keeps small payloads as plain JSON', () => {
    const small: TraversalCursor = { queryFingerprint: 'q', snapshotMs: 1, issuedAtSeconds: 1, traversal: 'ASC', position: null, resume: { kind: 'tail' } };
    expect(Buffer.from(codec.encode(small), 'base64url')[0]).toBe(1);
  });
});

describe('the cursor wire format', () => {
  // Pinned: cursors in clients' hands must keep decoding to the same traversal across releases,
  // and a change of the format must be a decision, not an accident.
  const codec = new CursorCodec({ secret: 'k'.repeat(32), ttlSeconds: 3600 });
  const base = { queryFingerprint: 'fingerprint', snapshotMs: 1_700_000_000_000, issuedAtSeconds: 1_700_000_000, position: [1_700_000_000_000, 'src', 'id-1'] as [number, string, string] };
  const pinned: Array<[string, TraversalCursor]> = [
    [
      'AXXsUNB7InEiOiJmaW5nZXJwcmludCIsImEiOjE3MDAwMDAwMDAwMDAsImkiOjE3MDAwMDAwMDAsImQiOiJERVNDIiwicCI6WzE3MDAwMDAwMDAwMDAsInNyYyIsImlkLTEiXSwicyI6eyJzcmMiOnsiciI6eyJjIjoiYWJjIn0sImsiOlsxNzAwMDAwMDAwMDAwLCJpZC0xIl19fX0O3cpt6LoXrMPW6Wtjid4x',
      { ...base, traversal: 'DESC', resume: { kind: 'sources', states: { src: { r: { c: 'abc' }, k: [1_700_000_000_000, 'id-1'] } }, origin: null } },
    ],
    [
      'AXXsUNB7InEiOiJmaW5nZXJwcmludCIsImEiOjE3MDAwMDAwMDAwMDAsImkiOjE3MDAwMDAwMDAsImQiOiJBU0MiLCJwIjpbMTcwMDAwMDAwMDAwMCwic3JjIiwiaWQtMSJdLCJzIjp7InNyYyI6eyJyIjpudWxsfX0sIm8iOlsxNjk5OTk5OTk5MDAwLCJzcmMiLCJpZC0wIl196FMKwjNxrl87p8ux5Z_tSw',
      { ...base, traversal: 'ASC', resume: { kind: 'sources', states: { src: { r: null } }, origin: [1_699_999_999_000, 'src', 'id-0'] } },
    ],
    ['AXXsUNB7InEiOiJmaW5nZXJwcmludCIsImEiOjE3MDAwMDAwMDAwMDAsImkiOjE3MDAwMDAwMDAsImQiOiJERVNDIiwicCI6WzE3MDAwMDAwMDAwMDAsInNyYyIsImlkLTEiXSwicyI6e30sIm0iOjF9OWBgR_oUX6WOwSN46k1t-Q', { ...base, traversal: 'DESC', resume: { kind: 'position' } }],
    ['AXXsUNB7InEiOiJmaW5nZXJwcmludCIsImEiOjE3MDAwMDAwMDAwMDAsImkiOjE3MDAwMDAwMDAsImQiOiJBU0MiLCJwIjpbMTcwMDAwMDAwMDAwMCwic3JjIiwiaWQtMSJdLCJzIjp7fSwiZSI6MX0Vq49L489HwdB8Fl4C7M84', { ...base, traversal: 'ASC', resume: { kind: 'tail' } }],
  ];

  it.each(pinned.map(([text, cursor]) => [cursor.resume.kind, text, cursor] as const))('encodes and decodes a %s cursor exactly as pinned', (_kind, text, cursor) => {
    expect(codec.encode(cursor)).toBe(text);
    expect(codec.decode(text, 'after', 1_700_000_000_000)).toEqual(cursor);
  });

  it('signs a scoped cursor, and one under a key longer than a block, as pinned', () => {
    // Both made with `createHmac`: the MAC is HMAC-SHA256 whatever computes it.
    const position: TraversalCursor = { ...base, traversal: 'DESC', resume: { kind: 'position' } };
    const scoped = 'AXXsUNB7InEiOiJmaW5nZXJwcmludCIsImEiOjE3MDAwMDAwMDAwMDAsImkiOjE3MDAwMDAwMDAsImQiOiJERVNDIiwicCI6WzE3MDAwMDAwMDAwMDAsInNyYyIsImlkLTEiXSwicyI6e30sIm0iOjF9se8ejfIeUrlq6FEZ-9sKbQ';
    expect(codec.encode(position, 'user:alice@example.com')).toBe(scoped);
    expect(codec.decode(scoped, 'after', 1_700_000_000_000, 'user:alice@example.com')).toEqual(position);
    expect(() => codec.decode(scoped, 'after', 1_700_000_000_000, 'user:bob@example.com')).toThrow('after: cursor signature mismatch');

    const longKey = new CursorCodec({ secret: 'L'.repeat(100), ttlSeconds: 3600 });
    const signed = 'AaLET997InEiOiJmaW5nZXJwcmludCIsImEiOjE3MDAwMDAwMDAwMDAsImkiOjE3MDAwMDAwMDAsImQiOiJERVNDIiwicCI6WzE3MDAwMDAwMDAwMDAsInNyYyIsImlkLTEiXSwicyI6e30sIm0iOjF9hmxz-4MrVD39yohdHgr_og';
    expect(longKey.encode(position, 'tenant-ü')).toBe(signed);
    expect(longKey.decode(signed, 'after', 1_700_000_000_000, 'tenant-ü')).toEqual(position);
  });
});
