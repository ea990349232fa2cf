import { backoffMs, headerValue, retryAfterMs, type ResponseHeaders } from '../../src/http/retry-after';

/** 2026-10-21T07:27:50Z: ten seconds before the dates below. */
const NOW = Date.UTC(2026, 9, 21, 7, 27, 50);
const NOW_SECONDS = NOW / 1000;

describe('headerValue', () => {
  it('gives a header by its lower-case name, the first of several values, undefined when absent', () => {
    const headers: ResponseHeaders = { 'retry-after': '5', 'set-cookie': ['a=1', 'b=2'], vary: undefined };
    expect([headerValue(headers, 'retry-after'), headerValue(headers, 'Retry-After'), headerValue(headers, 'set-cookie'), headerValue(headers, 'vary'), headerValue(headers, 'x-none')]).toEqual([
      '5',
      '5',
      'a=1',
      undefined,
      undefined,
    ]);
  });
});

describe('retryAfterMs', () => {
  it('reads Retry-After-Ms as milliseconds, rounded up, before anything else', () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500' }, NOW, 503)).toBe(1500);
    expect(retryAfterMs({ 'retry-after-ms': '12.3' }, NOW, 503)).toBe(13);
    expect(retryAfterMs({ 'retry-after-ms': ' 250 ' }, NOW, 503)).toBe(250);
    expect(retryAfterMs({ 'retry-after-ms': '0' }, NOW, 429)).toBe(0);
    expect(retryAfterMs({ 'retry-after-ms': '40', 'retry-after': '9', 'x-ratelimit-reset': String(NOW_SECONDS + 60) }, NOW, 429)).toBe(40);
  });

  it('reads Retry-After in seconds, fractions rounded up to the millisecond', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, NOW, 503)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': '0' }, NOW, 429)).toBe(0);
    expect(retryAfterMs({ 'retry-after': '1.5' }, NOW, 429)).toBe(1500);
    expect(retryAfterMs({ 'retry-after': '0.0001' }, NOW, 429)).toBe(1);
    expect(retryAfterMs({ 'retry-after': ' 7 ' }, NOW, 429)).toBe(7000);
  });

  it('reads Retry-After as an HTTP date: the time left until it', () => {
    expect(retryAfterMs({ 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }, NOW, 503)).toBe(10_000);
    // The obsolete RFC 850 form, which RFC 9110 still asks recipients to accept.
    expect(retryAfterMs({ 'retry-after': 'Wednesday, 21-Oct-26 07:28:00 GMT' }, NOW, 503)).toBe(10_000);
  });

  it('reads an HTTP date already past as no wait at all', () => {
    expect(retryAfterMs({ 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }, NOW, 503)).toBe(0);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 1970 00:00:00 GMT' }, NOW, 429)).toBe(0);
  });

  it('ignores a malformed Retry-After-Ms and reads Retry-After instead', () => {
    expect(retryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '2' }, NOW, 503)).toBe(2000);
    expect(retryAfterMs({ 'retry-after-ms': '-5', 'retry-after': '2' }, NOW, 503)).toBe(2000);
    expect(retryAfterMs({ 'retry-after-ms': '1e3' }, NOW, 503)).toBeUndefined();
  });

  it('says nothing for a Retry-After that is neither seconds nor a date, or empty', () => {
    for (const value of ['soon', 'in 5 seconds', '5 s', '12abc', '1e3', '0x10', '', '   ']) {
      expect({ value, ms: retryAfterMs({ 'retry-after': value }, NOW, 503) }).toEqual({ value, ms: undefined });
    }
  });

  it('says nothing when no header says anything', () => {
    expect(retryAfterMs({}, NOW, 429)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': undefined, 'content-type': 'application/json' }, NOW, 503)).toBeUndefined();
  });

  it('reads the first value of a repeated header', () => {
    expect(retryAfterMs({ 'retry-after': ['2', '30'] }, NOW, 429)).toBe(2000);
  });

  describe('x-ratelimit-reset', () => {
    it('on a 429, reads an epoch in seconds as the time left until it', () => {
      expect(retryAfterMs({ 'x-ratelimit-reset': String(NOW_SECONDS + 42) }, NOW, 429)).toBe(42_000);
    });

    it('on a 429, reads an epoch already past as no wait at all', () => {
      expect(retryAfterMs({ 'x-ratelimit-reset': String(NOW_SECONDS - 5) }, NOW, 429)).toBe(0);
    });

    it('on a 429, reads a small number as a delay in seconds rather than an epoch', () => {
      expect(retryAfterMs({ 'x-ratelimit-reset': '60' }, NOW, 429)).toBe(60_000);
      expect(retryAfterMs({ 'x-ratelimit-reset': ' 0 ' }, NOW, 429)).toBe(0);
    });

    it('is ignored on any other status: it tells when the quota renews, not when to retry', () => {
      for (const status of [500, 502, 503, 504, 200]) {
        expect({ status, ms: retryAfterMs({ 'x-ratelimit-reset': String(NOW_SECONDS + 42) }, NOW, status) }).toEqual({ status, ms: undefined });
      }
    });

    it('gives way to Retry-After', () => {
      expect(retryAfterMs({ 'retry-after': '3', 'x-ratelimit-reset': String(NOW_SECONDS + 42) }, NOW, 429)).toBe(3000);
    });

    it('is ignored when it is not a whole number', () => {
      for (const value of ['12.5', '-3', 'soon', '']) {
        expect({ value, ms: retryAfterMs({ 'x-ratelimit-reset': value }, NOW, 429) }).toEqual({ value, ms: undefined });
      }
    });
  });
});

describe('backoffMs', () => {
  const fixed = (value: number) => () => value;

  it('waits the minimum on the first retry, whatever the draw', () => {
    expect([backoffMs(0, 250, 2000, fixed(0)), backoffMs(0, 250, 2000, fixed(0.999))]).toEqual([250, 250]);
  });

  it('draws between the minimum and the minimum doubled once per attempt', () => {
    expect([0, 0.5, 1].map((draw) => backoffMs(1, 250, 2000, fixed(draw)))).toEqual([250, 375, 500]);
    expect([0, 0.5, 1].map((draw) => backoffMs(2, 250, 2000, fixed(draw)))).toEqual([250, 625, 1000]);
    expect([0, 0.5, 1].map((draw) => backoffMs(3, 250, 2000, fixed(draw)))).toEqual([250, 1125, 2000]);
  });

  it('never goes beyond the maximum, however many attempts', () => {
    expect([4, 10, 60].map((attempt) => backoffMs(attempt, 250, 2000, fixed(1)))).toEqual([2000, 2000, 2000]);
    expect(backoffMs(4, 250, 2000, fixed(0.5))).toBe(1125);
  });

  it('rounds to whole milliseconds', () => {
    expect(backoffMs(1, 250, 2000, fixed(1 / 3))).toBe(333);
    expect(backoffMs(1, 100, 2000, fixed(0.123))).toBe(112);
  });

  it('waits the minimum when the maximum is below it', () => {
    expect(backoffMs(5, 500, 100, fixed(1))).toBe(500);
  });

  it('stays within its bounds with the real random source', () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const ms = backoffMs(attempt, 250, 2000);
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThanOrEqual(Math.min(2000, 250 * 2 ** attempt));
    }
  });
});
