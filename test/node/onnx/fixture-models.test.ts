import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { parseManifest, riskTier } from "../../../worker/contract/manifest";
import { createSession, runRows } from "../../../trainer/onnx/node-runtime";
import { buildFixtureModels, type FixtureModel } from "../../fixtures/fixture-models";

describe("fixture models", () => {
  let fixtures: FixtureModel[];
  beforeAll(async () => {
    fixtures = await buildFixtureModels();
  });

  it("cover a tree ensemble and a logistic regression", () => {
    const families = fixtures.map((f) => f.manifest.model.family);
    expect(families).toEqual(expect.arrayContaining(["random_forest", "logistic_regression", "gradient_boosting"]));
    expect(new Set(fixtures.map((f) => f.name)).size).toBe(fixtures.length);
  });

  it("have manifests that parse unchanged and describe their ONNX bytes", () => {
    for (const { name, manifest, onnx } of fixtures) {
      expect(parseManifest(JSON.parse(JSON.stringify(manifest))), name).toEqual(manifest);
      expect(manifest.name).toBe(name);
      expect(manifest.onnx.sha256).toBe(createHash("sha256").update(onnx).digest("hex"));
      expect(manifest.onnx.size).toBe(onnx.byteLength);
    }
  });

  it("reproduce their golden probabilities through ORT exactly", async () => {
    for (const { name, manifest, onnx } of fixtures) {
      const session = await createSession(onnx);
      const p = await runRows(session, manifest.features, manifest.golden.map((g) => g.input));
      // Single-threaded ORT gives the same bits whatever the batch, so a one-row replay matches too.
      const single = [];
      for (const g of manifest.golden) single.push((await runRows(session, manifest.features, [g.input]))[0]);
      await session.release();
      expect(Array.from(p), name).toEqual(manifest.golden.map((g) => g.probability));
      expect(single, name).toEqual(manifest.golden.map((g) => g.probability));
    }
  });

  it("give every risk tier among the goldens of the forest", () => {
    const forest = fixtures.find((f) => f.manifest.model.family === "random_forest")!.manifest;
    const tiers = new Set(forest.golden.map((g) => riskTier(forest, g.probability)));
    expect([...tiers].sort()).toEqual(["HIGH", "LOW", "MEDIUM"]);
  });

  it("are deterministic", async () => {
    const again = await buildFixtureModels();
    expect(again.map((f) => f.manifest)).toEqual(fixtures.map((f) => f.manifest));
    again.forEach((f, i) => expect(Buffer.from(f.onnx).equals(Buffer.from(fixtures[i]!.onnx))).toBe(true));
  });
});
