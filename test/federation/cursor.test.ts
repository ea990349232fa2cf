import { CursorCodec, type CursorPayload } from '../../src/federation/cursor';

const payload: CursorPayload = { q: 'fingerprint', a: 1_700_000_000_000, i: 1_700_000_000, d: 'DESC', p: [1_700_000_000_000, 'src', 'id-1'], s: { src: { r: { c: 'abc' }, k: [1_700_000_000_000, 'id-1'] } } };

describe('CursorCodec', () => {
  const codec = new CursorCodec({ secret: 'k'.repeat(32), ttlSeconds: 3600 });
  const now = payload.i * 1000 + 1000;

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
    const rotated = new CursorCodec({ secret: 'n'.repeat(32), previousSecrets: ['o'.repeat(32)], ttlSeconds: 3600 });
    expect(rotated.decode(old.encode(payload), 'after', now)).toEqual(payload);
  });

  it('refuses a cursor older than its TTL as CURSOR_EXPIRED', () => {
    let thrown: unknown;
    try {
      codec.decode(codec.encode(payload), 'after', payload.i * 1000 + 3601 * 1000);
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
  const many: CursorPayload = {
    ...payload,
    s: Object.fromEntries(['port-main', 'nirvana-main', 'asana-main', 'agilicus-main', 'complianceagent-main'].map((id, i) => [id, { r: { c: `token-${i}-abcdefgh` }, k: [1_700_000_000_000 + i, `e7d2c1a0-5b4f-4a3e-9c8d-00000000000${i}`] }])),
  };

  it('deflates large payloads and round-trips them', () => {
    const cursor = codec.encode(many);
    expect(Buffer.from(cursor, 'base64url')[0]).toBe(2);
    expect(cursor.length).toBeLessThan(Buffer.from(JSON.stringify(many)).toString('base64url').length * 0.75);
    expect(codec.decode(cursor, 'after', many.i * 1000)).toEqual(many);
  });

  it('keeps small payloads as plain JSON', () => {
    const small: CursorPayload = { q: 'q', a: 1, i: 1, d: 'ASC', p: null, s: {} };
    expect(Buffer.from(codec.encode(small), 'base64url')[0]).toBe(1);
  });
});
