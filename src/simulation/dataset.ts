import { hex, unit } from './random';

/** Options for {@link SyntheticDataset}. */
export interface DatasetOptions {
  /** Events at the start. */
  size: number;
  seed: number;
  /** Time of the newest initial event, ms; default: now, to the second. */
  endMs?: number;
  /** Share of events that have the same millisecond as the one before; default 0.35. */
  tieRate?: number;
  /** Mean gap between two distinct timestamps, ms; default 1,500. */
  meanGapMs?: number;
}

/**
 * A deterministic, append-only audit data set. Only timestamps are stored (8 bytes an event);
 * every other field is computed from (seed, index) by the vendor simulators. Index 0 is the
 * oldest event; indexes never change, so an index is a stable identity.
 */
export class SyntheticDataset {
  readonly seed: number;
  private times: Float64Array;
  private count: number;

  constructor(options: DatasetOptions) {
    this.seed = options.seed >>> 0;
    this.count = options.size;
    this.times = new Float64Array(Math.max(16, options.size));
    const tieRate = options.tieRate ?? 0.35;
    const meanGap = options.meanGapMs ?? 1500;
    const endMs = options.endMs ?? Math.floor(Date.now() / 1000) * 1000;
    // Walk back from the newest event, so the newest time is exactly `endMs`.
    let t = endMs;
    for (let i = options.size - 1; i >= 0; i--) {
      this.times[i] = t;
      const tie = unit(this.seed, i, 1) < tieRate;
      if (!tie) t -= 1 + Math.floor(unit(this.seed, i, 2) * meanGap * 2);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Time of event `index`, ms. */
  timeOf(index: number): number {
    if (index < 0 || index >= this.count) throw new RangeError(`no event ${index}`);
    return this.times[index]!;
  }

  /** Appends `count` events at or after `atMs` (default: now), as new activity arriving upstream. */
  append(count: number, atMs: number = Date.now()): void {
    const last = this.count > 0 ? this.times[this.count - 1]! : atMs;
    const start = Math.max(last, atMs);
    this.ensureCapacity(this.count + count);
    for (let i = 0; i < count; i++) {
      const index = this.count;
      this.times[index] = start + (unit(this.seed, index, 1) < 0.35 ? 0 : i);
      if (index > 0 && this.times[index]! < this.times[index - 1]!) this.times[index] = this.times[index - 1]!;
      this.count += 1;
    }
  }

  /** First index whose time is >= `ms` (binary search); `size` when none. */
  lowerBound(ms: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A UUID-shaped id that encodes `index` in its last group, so it maps back without a table. */
  uuidOf(index: number, namespace: number): string {
    const h = hex(this.seed, index, namespace, 19);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-a${h.slice(15, 18)}-${index.toString(16).padStart(12, '0')}`;
  }

  /** The index a {@link uuidOf} id stands for, or null when it is not one of this data set's ids. */
  indexOfUuid(id: string, namespace: number): number | null {
    const match = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-([0-9a-f]{12})$/.exec(id);
    if (!match) return null;
    const index = parseInt(match[1]!, 16);
    if (index >= this.count || this.uuidOf(index, namespace) !== id) return null;
    return index;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.times.length) return;
    const grown = new Float64Array(Math.max(needed, this.times.length * 2));
    grown.set(this.times.subarray(0, this.count));
    this.times = grown;
  }
}
