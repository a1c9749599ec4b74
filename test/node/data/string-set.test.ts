import { describe, expect, it } from "vitest";
import { StringSet } from "../../../trainer/data/string-set";
import { Rng } from "../../../trainer/random";

/** 32-bit FNV-1a, written out here to show the pair below really shares a hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h;
}

describe("StringSet", () => {
  it("answers as a built-in Set does over 300k adds with repeats (growing through many rehashes)", () => {
    const rng = new Rng("string-set");
    const ours = new StringSet();
    const theirs = new Set<string>();
    let disagreements = 0;
    for (let i = 0; i < 300_000; i++) {
      const key = `${rng.int(150_000)},${rng.int(3) === 0 ? "a" : "b"}`;
      const added = ours.add(key);
      if (added !== !theirs.has(key)) disagreements++;
      theirs.add(key);
    }
    expect(disagreements).toBe(0);
    expect(ours.size).toBe(theirs.size);
  });

  it("keeps two different strings with the same hash apart", () => {
    // Found by searching row-0, row-1, ... for a repeated FNV-1a value.
    expect(fnv1a("row-539599")).toBe(fnv1a("row-722382"));
    const set = new StringSet();
    expect(set.add("row-539599")).toBe(true);
    expect(set.add("row-722382")).toBe(true);
    expect(set.add("row-722382")).toBe(false);
    expect(set.size).toBe(2);
  });
});
