/**
 * import:xgboost on boosters trained by XGBoost 1.7 (test/fixtures/xgboost/, written by
 * scripts/reference/xgboost_fixtures.py; no Python runs here): ORT reproduces XGBoost's committed
 * probabilities within 1e-5 on every row, including rows exactly on split thresholds, missing values
 * and unseen categories, and writes a complete run directory; what cannot be imported is refused
 * naming the problem, and nothing is written. Publishing, serving and explaining an imported run
 * happen in workerd (test/workers/explain.test.ts, the "imported" fixture).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ParityError } from "../../../trainer/onnx/parity";
import { importXgboost } from "../../../trainer/pipeline/import-run";
import { UsageError } from "../../../trainer/user-errors";
import { belowFloat32 } from "../../../trainer/xgboost/booster-trees";
import { mapBoosterFeatures } from "../../../trainer/xgboost/map-features";
import { parseManifest } from "../../../worker/contract/manifest";
import { parseExplainer } from "../../../worker/contract/explainer";
import { XGBOOST_FIXTURES, XGBOOST_FIXTURES_DIR, xgboostFixtureConfig } from "../../fixtures/imported-model";
import { runCommand } from "../../helpers/run-command";

let out: string;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), "import-xgboost-"));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

const NOW = new Date("2026-01-01T00:00:00Z");

async function runImport(fixture: (typeof XGBOOST_FIXTURES)[number], overrides: { modelPath?: string; patch?: (spec: Record<string, any>) => void } = {}) {
  const { config, text, modelPath, expectedPath } = await xgboostFixtureConfig(fixture, overrides.patch);
  return importXgboost(config, { modelPath: overrides.modelPath ?? modelPath, expectedPath, configText: text, artifactsDir: out, now: NOW });
}

async function tamperedModel(fixture: string, edit: (model: any) => void): Promise<string> {
  const model = JSON.parse(await readFile(join(XGBOOST_FIXTURES_DIR, fixture, "model.json"), "utf8"));
  edit(model);
  const path = join(out, "tampered.json");
  await writeFile(path, JSON.stringify(model));
  return path;
}

describe("belowFloat32: x < t as x <= t' for float32 x", () => {
  it("is the next float32 below, across signs, zero and magnitudes", () => {
    for (const t of [1, 0.5, -0.5, 24.5, 70.35, -3.25e-20, 1e30, -1e30, 1.401298464324817e-45]) {
      const below = belowFloat32(t);
      const f = Math.fround(t);
      expect(below).toBeLessThan(f);
      expect(Math.fround(below)).toBe(below);
      // Nothing between: the midpoint rounds to one end in float32.
      expect([below, f]).toContain(Math.fround((below + f) / 2));
    }
    expect(belowFloat32(0)).toBe(-1.401298464324817e-45);
    expect(belowFloat32(-0)).toBe(-1.401298464324817e-45);
  });
});

describe("import:xgboost parity with XGBoost 1.7", () => {
  for (const fixture of XGBOOST_FIXTURES) {
    it(`${fixture}: every row within 1e-5 of XGBoost, and a complete run directory`, async () => {
      const result = await runImport(fixture);
      const data = await readFile(join(XGBOOST_FIXTURES_DIR, fixture, "data.csv"), "utf8");
      expect(result.parity.rows).toBe(data.trim().split("\n").length - 1);
      expect(result.parity.maxAbsDiff).toBeLessThanOrEqual(1e-5);
      const files = await readdir(result.dir);
      expect(files).toEqual(expect.arrayContaining(["model.onnx", "manifest.json", "model-card.md", "reference.json", "explainer.json", "config.json"]));
      const manifest = parseManifest(JSON.parse(await readFile(join(result.dir, "manifest.json"), "utf8")));
      expect(manifest.preprocessing.missing).toBe("tree_default");
      expect(manifest.model).toMatchObject({ family: "gradient_boosting", params: { imported_from: "xgboost", xgboost_version: "1.7.4", objective: "binary:logistic" } });
      const explainer = parseExplainer(JSON.parse(await readFile(join(result.dir, "explainer.json"), "utf8")));
      expect(explainer.space).toBe("log_odds");
      const card = await readFile(join(result.dir, "model-card.md"), "utf8");
      expect(card).toContain(`imported from XGBoost 1.7.4, binary:logistic, ${result.booster.trees} trees`);
    });
  }

  it("the fixtures cover threshold, missing and unseen rows, and both default directions", async () => {
    const model = JSON.parse(await readFile(join(XGBOOST_FIXTURES_DIR, "missing", "model.json"), "utf8"));
    const defaults = new Set(model.learner.gradient_booster.model.trees.flatMap((t: any) => t.default_left.filter((_: number, i: number) => t.left_children[i] !== -1)));
    expect(defaults).toEqual(new Set([0, 1]));
    const csv = await readFile(join(XGBOOST_FIXTURES_DIR, "missing", "data.csv"), "utf8");
    expect(csv).toContain("Carrier pigeon");
    expect(csv).toMatch(/^,,,,,,,[01]$/m);
    const thresholds = new Set(model.learner.gradient_booster.model.trees.flatMap((t: any) => t.split_conditions.filter((_: number, i: number) => t.left_children[i] !== -1 && t.split_indices[i] < 4).map((c: number) => Math.fround(c))));
    const cells = new Set(csv.split("\n").slice(1).flatMap((line) => line.split(",").slice(0, 4)).filter(Boolean).map((c) => Math.fround(Number(c))));
    for (const t of thresholds) expect(cells.has(t as number)).toBe(true);
  });
});

describe("import:xgboost refusals", () => {
  it("malformed JSON names the file and the problem", async () => {
    const path = join(out, "broken.json");
    await writeFile(path, '{"learner": {');
    await expect(runImport("numeric", { modelPath: path })).rejects.toThrow(/broken\.json is not JSON/);
  });

  it("an XGBoost model of another objective lists what is supported", async () => {
    const path = await tamperedModel("numeric", (m) => (m.learner.objective.name = "reg:squarederror"));
    const error = await runImport("numeric", { modelPath: path }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/objective reg:squarederror is not supported; supported: binary:logistic/);
  });

  it("JSON that is not an XGBoost model names the missing part", async () => {
    const path = join(out, "other.json");
    await writeFile(path, JSON.stringify({ version: [1, 7, 4], learner: { objective: { name: "binary:logistic" } } }));
    await expect(runImport("numeric", { modelPath: path })).rejects.toThrow(/is not an XGBoost JSON model: learner\.\w+/);
  });

  it("categorical splits and multi-class boosters are refused", async () => {
    const categorical = await tamperedModel("numeric", (m) => (m.learner.gradient_booster.model.trees[3].split_type[0] = 1));
    await expect(runImport("numeric", { modelPath: categorical })).rejects.toThrow(/tree 3: categorical splits/);
    const multi = await tamperedModel("numeric", (m) => (m.learner.learner_model_param.num_class = "3"));
    await expect(runImport("numeric", { modelPath: multi })).rejects.toThrow(/num_class is 3/);
  });

  it("a booster feature the config does not declare, and a config feature the booster lacks, are named", async () => {
    await expect(runImport("onehot", { patch: (s) => { s.features.numeric = ["tenure", "monthly_charges", "total_charges"]; delete s.features.columns.num_products; } })).rejects.toThrow(
      /booster feature num_products maps to no feature/,
    );
    await expect(runImport("numeric", { patch: (s) => (s.features.categorical = ["contract_type"]) })).rejects.toThrow(
      /categorical feature contract_type of .* has no one-hot column contract_type_<category>/,
    );
  });

  it("a leaf XGBoost would not reproduce fails parity and writes nothing", async () => {
    const path = await tamperedModel("onehot", (m) => (m.learner.gradient_booster.model.trees[0].split_conditions[7] += 0.01));
    const error = await runImport("onehot", { modelPath: path }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ParityError);
    expect((error as Error).message).toMatch(/max \|p_onnx - p_xgboost\| = .* > 0\.00001 at row \d+/);
    expect(await readdir(out)).toEqual(["tampered.json"]);
  });

  it("the CLI exits 2 with the message alone", async () => {
    const path = join(out, "broken.json");
    await writeFile(path, "not json");
    const dir = join(XGBOOST_FIXTURES_DIR, "numeric");
    const result = await runCommand("npx", ["tsx", "trainer/cli.ts", "import-xgboost", path, "--config", join(dir, "config.yaml"), "--expected", join(dir, "xgboost.json"), "--artifacts-dir", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*broken\.json is not JSON/m);
  });
});

describe("mapping booster columns to features", () => {
  const config = { numeric: ["tenure"], categorical: ["contract_type", "contract"], configName: "config.yaml" };

  it("lays out numeric pairs, then one-hot blocks in booster column order; the longest feature prefix wins", () => {
    const layout = mapBoosterFeatures({ ...config, boosterFeatures: ["contract_type_Two year", "tenure", "contract_x", "contract_type_One year"] });
    expect(layout.categorical).toEqual([
      { name: "contract_type", categories: ["Two year", "One year"] },
      { name: "contract", categories: ["x"] },
    ]);
    expect(layout.columns).toEqual([
      { kind: "onehot", feature: "contract_type", category: "Two year", column: 2 },
      { kind: "numeric", feature: "tenure", index: 0 },
      { kind: "onehot", feature: "contract", category: "x", column: 4 },
      { kind: "onehot", feature: "contract_type", category: "One year", column: 3 },
    ]);
    expect(layout.width).toBe(5);
  });

  it("a --mapping renames columns, and its mistakes are named", () => {
    const layout = mapBoosterFeatures({ ...config, categorical: ["contract_type"], boosterFeatures: ["f0", "ct2"], mapping: { f0: "tenure", ct2: { feature: "contract_type", category: "Two year" } } });
    expect(layout.columns.map((c) => c.feature)).toEqual(["tenure", "contract_type"]);
    expect(() => mapBoosterFeatures({ ...config, boosterFeatures: ["f0"], mapping: { f1: "tenure" } })).toThrow(/maps "f1", which is not a booster feature/);
    expect(() => mapBoosterFeatures({ ...config, boosterFeatures: ["f0"], mapping: { f0: "age" } })).toThrow(/to age, which is not a numeric feature/);
    expect(() => mapBoosterFeatures({ ...config, categorical: [], boosterFeatures: ["tenure", "f0"], mapping: { f0: "tenure" } })).toThrow(/booster features tenure and f0 both map to numeric feature tenure/);
    expect(() => mapBoosterFeatures({ ...config, categorical: ["contract_type"], boosterFeatures: ["tenure", "contract_type"] })).toThrow(/one number column, but config\.yaml declares contract_type categorical/);
  });
});
