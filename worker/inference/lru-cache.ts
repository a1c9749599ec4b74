/**
 * A bounded map that forgets its least recently used entries, telling the owner which ones it
 * dropped (so, e.g., an ONNX session can be released). A Map iterates in insertion order, so moving
 * an entry to the end on every read keeps the oldest first. Small and dependency-free: the isolate
 * holds a handful of entries, and the eviction callback is the part that matters.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    private capacity: number,
    private readonly onEvict: (key: K, value: V) => void = () => {},
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`LRU capacity must be a whole number >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get limit(): number {
    return this.capacity;
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value without touching its recency. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Stores the value as the most recently used, evicting the oldest entries over capacity. */
  set(key: K, value: V): void {
    const previous = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value);
    if (previous !== undefined && previous !== value) this.onEvict(key, previous);
    this.trim();
  }

  /** Removes an entry without calling onEvict: for values the owner has already disposed of. */
  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Removes an entry and hands it to onEvict. */
  evict(key: K): boolean {
    const value = this.entries.get(key);
    if (value === undefined) return false;
    this.entries.delete(key);
    this.onEvict(key, value);
    return true;
  }

  /** Changes the capacity (settings are read per request), evicting the oldest entries over it. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`LRU capacity must be a whole number >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.trim();
  }

  /** Evicts every entry, oldest first. */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.evict(key);
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  private trim(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as K;
      this.evict(oldest);
    }
  }
}
