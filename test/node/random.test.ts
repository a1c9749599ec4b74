import { describe, expect, it } from "vitest";
import { Rng } from "../../trainer/random";

describe("Rng", () => {
  it("repeats a sequence for the same seed and differs for another", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it("gives forks independent of draws made on the parent", () => {
    const a = new Rng(7);
    const b = new Rng(7);
    b.next();
    expect(a.fork("split").next()).not.toBe(b.fork("split").next()); // fork depends on state
    expect(new Rng(7).fork("split").next()).toBe(new Rng(7).fork("split").next());
    expect(new Rng(7).fork("split").next()).not.toBe(new Rng(7).fork("trees").next());
  });

  it("draws uniforms in [0,1) with the right mean and normals with the right moments", () => {
    const r = new Rng(1);
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005); // ~5 standard errors
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal(3, 2);
      s1 += z;
      s2 += z * z;
    }
    const mean = s1 / n;
    expect(Math.abs(mean - 3)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n - mean * mean) - 2)).toBeLessThan(0.03);
  });
});
