/** The per-isolate gathering of D1 writes (request samples, shadow pairs): when rows are handed back. */
import { describe, expect, it } from "vitest";
import { GatheredWrites } from "../../worker/monitoring/gathered-writes";

describe("GatheredWrites", () => {
  it("hands back every queued row once the interval has passed since the last write, and holds them before", () => {
    const g = new GatheredWrites<number>(100);
    expect(g.add([1], 10_000, 1_000)).toEqual([1]); // never written: due at once
    expect(g.add([2, 3], 10_500, 1_000)).toBeNull();
    expect(g.add([4], 10_999, 1_000)).toBeNull();
    expect(g.add([5], 11_000, 1_000)).toEqual([2, 3, 4, 5]);
    expect(g.add([6], 11_001, 1_000)).toBeNull();
    expect(g.take(11_002)).toEqual([6]);
    expect(g.take(11_003)).toEqual([]);
  });

  it("hands back at maxPending rows whatever the interval, and every row when the interval is 0", () => {
    const g = new GatheredWrites<number>(3);
    g.take(0);
    expect(g.add([1, 2], 1, 60_000)).toBeNull();
    expect(g.add([3], 2, 60_000)).toEqual([1, 2, 3]);
    const now = new GatheredWrites<number>(100);
    expect(now.add([1], 5, 0)).toEqual([1]);
    expect(now.add([2], 5, 0)).toEqual([2]);
  });
});
