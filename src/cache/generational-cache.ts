/**
 * A bounded map that forgets in generations: entries go into the current generation; when it is
 * full it becomes the old one and the previous old one is dropped whole. A hit in the old
 * generation moves the entry forward. At most `2 × generationSize` entries are held, and every
 * operation is one or two `Map` calls: the scheme of the quick-lru package, which is ESM-only and
 * so cannot be loaded by this CommonJS build. lru-cache's exact recency order cost about a
 * microsecond per call on the listing path, where every listed event passes.
 */
export class GenerationalCache<Key, Value> {
  private current = new Map<Key, Value>();
  private old = new Map<Key, Value>();

  constructor(private readonly generationSize: number) {
    if (!Number.isInteger(generationSize) || generationSize < 1) throw new RangeError('generationSize must be a positive integer');
  }

  get(key: Key): Value | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.put(key, aged);
    }
    return aged;
  }

  set(key: Key, value: Value): void {
    if (this.current.has(key)) this.current.set(key, value);
    else this.put(key, value);
  }

  /** Entries held, both generations (an entry is never in both). */
  get size(): number {
    return this.current.size + this.old.size;
  }

  private put(key: Key, value: Value): void {
    this.old.delete(key);
    this.current.set(key, value);
    if (this.current.size >= this.generationSize) {
      this.old = this.current;
      this.current = new Map();
    }
  }
}
