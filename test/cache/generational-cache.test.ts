import fc from 'fast-check';
import { GenerationalCache } from '../../src/cache/generational-cache';

describe('GenerationalCache', () => {
  it('never holds more than two generations, and always the last generation of writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 300 }), (generation, keys) => {
        const cache = new GenerationalCache<number, number>(generation);
        keys.forEach((key, i) => {
          cache.set(key, i);
          expect(cache.size).toBeLessThan(2 * generation);
        });
        // The most recent distinct keys, up to one generation's worth, are all still there with their latest values.
        const latest = new Map<number, number>();
        keys.forEach((key, i) => latest.set(key, i));
        const recent = [...latest.entries()].sort((a, b) => b[1] - a[1]).slice(0, generation - 1);
        for (const [key, value] of recent) expect(cache.get(key)).toBe(value);
      }),
    );
  });

  it('moves an entry read from the old generation forward, so it outlives the next rotation', () => {
    const cache = new GenerationalCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2); // rotates: old = {a, b}
    expect(cache.get('a')).toBe(1); // a moves to the current generation
    cache.set('c', 3); // rotates: old = {a, c}, b dropped
    expect(cache.get('a')).toBe(1);
    expect(cache.get('b')).toBeUndefined();
  });

  it('refuses a generation size that is not a positive integer', () => {
    expect(() => new GenerationalCache(0)).toThrow(RangeError);
  });
});
