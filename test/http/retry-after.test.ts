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

describe('backoffMs (full jitter, cockatiel generator)', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** The delays of retries 0..3 for each stubbed draw of Math.random. */
  function delays(draws: readonly number[], baseMs: number, maxMs: number, retries: readonly number[] = [0, 1, 2, 3]): number[][] {
    return retries.map((retry) =>
      draws.map((draw) => {
        jest.spyOn(Math, 'random').mockReturnValueOnce(draw);
        return backoffMs(retry, baseMs, maxMs);
      }),
    );
  }

  it('draws retry n uniformly in [0, base * 2^n): the ceiling doubles with each retry, from no floor', () => {
    expect(delays([0, 0.5, 0.9999], 250, 10_000)).toEqual([
      [0, 125, 249],
      [0, 250, 499],
      [0, 500, 999],
      [0, 1000, 1999],
    ]);
  });

  it('jitters the first retry too, which used to wait exactly the minimum every time', () => {
    const [first] = delays([0.1, 0.6], 250, 2000, [0]);
    expect(new Set(first).size).toBe(2);
  });

  it('never goes beyond the maximum, however many retries', () => {
    expect(delays([0.9999], 250, 2000, [3, 4, 10, 60]).flat()).toEqual([1999, 1999, 1999, 1999]);
    expect(delays([0.5], 250, 2000, [4]).flat()).toEqual([1000]);
  });

  it('stays within its bounds with the real random source, and spreads over them', () => {
    for (let retry = 0; retry < 8; retry++) {
      const ceiling = Math.min(2000, 250 * 2 ** retry);
      const drawn = Array.from({ length: 200 }, () => backoffMs(retry, 250, 2000));
      expect(Math.min(...drawn)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...drawn)).toBeLessThan(ceiling);
      // 200 uniform draws over at least 250 values: far more than a handful of distinct delays.
      expect(new Set(drawn).size).toBeGreaterThan(50);
    }
  });
});
