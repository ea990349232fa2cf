/**
 * Deterministic pseudo-random values keyed by (seed, index, salt): any event's fields can be
 * computed on demand, in any order, without storing them. SplitMix32-style integer mixing.
 */
export function mix(seed: number, index: number, salt: number): number {
  let h = (seed ^ Math.imul(index + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A float in [0, 1). */
export function unit(seed: number, index: number, salt: number): number {
  return mix(seed, index, salt) / 0x1_0000_0000;
}

/** An integer in [0, n). */
export function pick(seed: number, index: number, salt: number, n: number): number {
  return mix(seed, index, salt) % n;
}

/** One element of a non-empty list. */
export function choose<T>(list: readonly T[], seed: number, index: number, salt: number): T {
  return list[pick(seed, index, salt, list.length)]!;
}

/** `count` hex digits. */
export function hex(seed: number, index: number, salt: number, count: number): string {
  let out = '';
  for (let i = 0; out.length < count; i++) out += mix(seed, index, salt * 31 + i).toString(16).padStart(8, '0');
  return out.slice(0, count);
}
