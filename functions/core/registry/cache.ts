/**
 * A promise cache with a time to live. Concurrent gets of one key share one
 * load; a failed load is forgotten at once so an outage never poisons it.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number; settled?: V }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const value = load();
    const entry: { value: Promise<V>; expires: number; settled?: V } = {
      value,
      expires: this.now() + this.ttlMs,
    };
    this.entries.set(key, entry);
    value.then(
      (loaded) => {
        entry.settled = loaded;
      },
      () => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      },
    );
    return value;
  }

  /** The loaded value while it is fresh, without waiting: undefined while loading, failed or expired. */
  peek(key: string): V | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > this.now() ? hit.settled : undefined;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * A least-recently-used cache bounded by the total size of its entries.
 * Loads are shared like TtlCache's; an entry larger than the bound is still
 * served but evicts everything else.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; size: number }>();
  private total = 0;

  constructor(
    private readonly maxSize: number,
    private readonly onEvict: (value: V, key: string) => void = () => {},
  ) {}

  get size(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string, size: number, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = load();
    this.entries.set(key, { value, size });
    this.total += size;
    value.then(
      () => this.evict(key),
      () => this.remove(key, value),
    );
    return value;
  }

  private remove(key: string, value: Promise<V>): void {
    const entry = this.entries.get(key);
    if (entry?.value !== value) return;
    this.entries.delete(key);
    this.total -= entry.size;
  }

  /** Drops least recently used entries until the bound holds, keeping `keep`. */
  private evict(keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.maxSize) return;
      if (key === keep) continue;
      this.entries.delete(key);
      this.total -= entry.size;
      entry.value.then(
        (value) => this.onEvict(value, key),
        () => {},
      );
    }
  }
}
