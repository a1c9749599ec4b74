/**
 * Feature names that are Object.prototype members (constructor, toString, __proto__ ...) cannot
 * enter a manifest: request rows are plain objects, and validation would read the inherited member.
 */
import { describe, expect, it } from "vitest";
import { featureSpecSchema, isReservedFeatureName, manifestSchema } from "../../../worker/contract/manifest";

const RESERVED = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "isPrototypeOf", "toLocaleString"];

describe("manifest feature names", () => {
  it("refuses every Object.prototype member, naming it, for both kinds", () => {
    for (const name of RESERVED) {
      for (const spec of [
        { name, kind: "numeric" },
        { name, kind: "categorical", categories: ["a"] },
      ]) {
        const result = featureSpecSchema.safeParse(spec);
        expect(result.success, `${name} (${spec.kind})`).toBe(false);
        expect(result.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([
          ["name", `feature name ${JSON.stringify(name)} is reserved: it is a property of every JavaScript object (Object.prototype)`],
        ]);
      }
    }
  });

  it("refuses a hand-made manifest whose feature list carries one", () => {
    const features = manifestSchema.shape.features;
    expect(features.safeParse([{ name: "tenure", kind: "numeric" }]).success).toBe(true);
    const bad = features.safeParse([{ name: "tenure", kind: "numeric" }, { name: "constructor", kind: "numeric" }]);
    expect(bad.error?.issues[0]?.path).toEqual([1, "name"]);
  });

  it("accepts names that only contain or resemble one", () => {
    for (const name of ["constructor_id", "ToString", "proto", "value_of", "length", "name", "prototype"])
      expect(isReservedFeatureName(name), name).toBe(false);
    for (const name of RESERVED) expect(isReservedFeatureName(name), name).toBe(true);
  });
});
