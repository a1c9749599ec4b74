/** The bounded cache behind the model caches: recency, eviction order, and who is told about it. */
import { describe, expect, it } from "vitest";
import { LruCache } from "../../worker/inference/lru-cache";

function tracked(capacity: number) {
  const evicted: string[] = [];
  const cache = new LruCache<string, number>(capacity, (key, value) => evicted.push(`${key}=${value}`));
  return { cache, evicted };
}

describe("LruCache", () => {
  it("evicts the least recently used entry past capacity; get refreshes recency, peek does not", () => {
    const { cache, evicted } = tracked(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("c", 3);
    expect(evicted).toEqual(["b=2"]);
    expect(cache.peek("a")).toBe(1); // a stays the oldest
    cache.set("d", 4);
    expect(evicted).toEqual(["b=2", "a=1"]);
    expect([...cache.keys()]).toEqual(["c", "d"]);
    expect(cache.get("b")).toBeUndefined();
  });

  it("replacing a key hands the old value to onEvict; delete does not", () => {
    const { cache, evicted } = tracked(3);
    cache.set("a", 1);
    cache.set("a", 2);
    expect(evicted).toEqual(["a=1"]);
    expect(cache.delete("a")).toBe(true);
    expect(evicted).toEqual(["a=1"]);
    expect(cache.size).toBe(0);
  });

  it("resize and clear evict oldest first; a bad capacity is refused", () => {
    const { cache, evicted } = tracked(3);
    for (const [k, v] of [["a", 1], ["b", 2], ["c", 3]] as const) cache.set(k, v);
    cache.resize(1);
    expect(evicted).toEqual(["a=1", "b=2"]);
    expect(cache.limit).toBe(1);
    cache.clear();
    expect(evicted).toEqual(["a=1", "b=2", "c=3"]);
    expect(() => cache.resize(0)).toThrow(RangeError);
    expect(() => new LruCache(1.5)).toThrow(RangeError);
  });
});
