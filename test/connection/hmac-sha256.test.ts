import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256 } from '../../src/connection/hmac-sha256';

describe('HmacSha256', () => {
  it('gives what createHmac gives, for keys shorter and longer than a block and any message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.nat({ max: 8 }), (key, message, spare) => {
        // The message after the pad room, and spare bytes after it that the MAC must not read.
        const buffer = Buffer.alloc(HmacSha256.PAD_BYTES + message.length + spare, 0xa5);
        Buffer.from(message).copy(buffer, HmacSha256.PAD_BYTES);
        const mac = new HmacSha256(Buffer.from(key)).digestAfterPad(buffer, HmacSha256.PAD_BYTES + message.length);
        expect(Buffer.from(mac, 'latin1')).toEqual(createHmac('sha256', Buffer.from(key)).update(message).digest());
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same MAC again under the same key: the pads it keeps are not changed by a digest', () => {
    const hmac = new HmacSha256(Buffer.from('k'.repeat(32)));
    const buffer = Buffer.concat([Buffer.alloc(HmacSha256.PAD_BYTES), Buffer.from('payload')]);
    const first = hmac.digestAfterPad(buffer, buffer.length);
    buffer.fill(0, 0, HmacSha256.PAD_BYTES);
    expect(hmac.digestAfterPad(buffer, buffer.length)).toBe(first);
  });

  it('refuses a message end before the pad room or past the buffer', () => {
    const hmac = new HmacSha256(Buffer.from('key'));
    expect(() => hmac.digestAfterPad(Buffer.alloc(80), 10)).toThrow(RangeError);
    expect(() => hmac.digestAfterPad(Buffer.alloc(80), 81)).toThrow(RangeError);
  });
});
