/**
 * A whole training run on a small synthetic file: artifacts, manifest contract, gate, CV, and
 * reproducibility (same seed and data -> byte-identical ONNX).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../trainer/config";
import { generateChurnRows, toCsv } from "../../../trainer/data/synthetic";
import { runTraining } from "../../../trainer/pipeline/train-run";
import { parseDriftReference } from "../../../worker/contract/drift-reference";
import { parseManifest } from "../../../worker/contract/manifest";
import { meanAbsContributions } from "../../../worker/explain/global-importance";
import { TRAINED_FIXTURE_CONFIG } from "../../fixtures/trained-model";

let dir: string;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "train-run-"));
  await writeFile(join(dir, "train.csv"), toCsv(generateChurnRows({ rows: 1200, seed: 3, messy: true })));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function config(overrides: Record<string, unknown> = {}) {
  const doc = structuredClone(TRAINED_FIXTURE_CONFIG) as Record<string, Record<string, unknown>>;
  doc.data = { ...doc.data, train_path: join(dir, "train.csv") };
  for (const [k, v] of Object.entries(overrides)) doc[k] = k === "model" ? (v as Record<string, unknown>) : { ...doc[k], ...(v as object) };
  return parseConfig(doc);
}

async function train(cfg = config(), artifacts = "a") {
  return runTraining(cfg, { configText: JSON.stringify(cfg), artifactsDir: join(dir, artifacts), now: new Date("2026-02-03T04:05:06Z") });
}

describe("runTraining", () => {
  it("writes every artifact; the manifest and drift reference satisfy the edge's contracts", async () => {
    const result = await train();
    for (const file of ["model.onnx", "manifest.json", "model-card.md", "reference.json", "explainer.json", "roc.svg", "calibration.svg"]) {
      expect(existsSync(join(result.dir, file)), file).toBe(true);
    }
    const manifest = parseManifest(JSON.parse(await readFile(join(result.dir, "manifest.json"), "utf8")));
    const onnx = new Uint8Array(await readFile(join(result.dir, "model.onnx")));
    expect(manifest.onnx.sha256).toBe(sha(onnx));
    expect(manifest.data).toMatchObject({ rows: 1200, train_rows: 900, validation_rows: 300 });
    expect(manifest.source).toMatchObject({ trainer_version: "0.1.0", seed: 7, created_at: "2026-02-03T04:05:06.000Z" });
    expect(manifest.source.run_id).toMatch(/^20260203-040506-[0-9a-f]{8}$/);
    expect(manifest.golden).toHaveLength(300);
    expect(manifest.features.find((f) => f.name === "contract_type")).toMatchObject({ closed: true });
    expect(manifest.metrics).toMatchObject({ parity: { rows: 300 }, gate: { passed: true, checks: [] } });
    expect(result.parity.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(result.evaluation.roc_auc).toBeGreaterThan(0.7);
    const reference = parseDriftReference(JSON.parse(await readFile(join(result.dir, "reference.json"), "utf8")));
    expect(reference.rows).toBe(300);
    expect(reference.sample.rows).toHaveLength(100);
    expect(reference.sample.scores).toHaveLength(100);
    const card = await readFile(join(result.dir, "model-card.md"), "utf8");
    expect(card).toContain(result.evaluation.roc_auc.toFixed(4));
    expect(existsSync(join(result.dir, "importance.svg"))).toBe(true);
    expect(card).toContain("Over all 300 validation rows.");
    // The golden rows are the whole validation split here (golden_rows 300), so their stored
    // explanations give the importance independently of the order the importance rows were drawn in.
    const importance = manifest.explainer!.importance!;
    expect(importance).toMatchObject({ split: "validation", rows: 300 });
    const fromGolden = meanAbsContributions(manifest.golden.map((g) => g.explanation!));
    expect(Object.keys(importance.mean_abs)).toEqual(manifest.features.map((f) => f.name));
    manifest.features.forEach((f, i) => expect(importance.mean_abs[f.name]!, f.name).toBeCloseTo(fromGolden[i]!, 12));
    expect(await readFile(join(dir, "a", "LATEST"), "utf8")).toBe(`${result.runId}\n`);
  });

  it("is reproducible: same seed and data give a byte-identical ONNX file; another seed does not", async () => {
    const a = await train(config(), "r1");
    const b = await train(config(), "r2");
    const onnxA = await readFile(join(a.dir, "model.onnx"));
    expect(sha(await readFile(join(b.dir, "model.onnx")))).toBe(sha(onnxA));
    const c = await train(config({ training: { random_state: 8 } }), "r3");
    expect(sha(await readFile(join(c.dir, "model.onnx")))).not.toBe(sha(onnxA));
  });

  it("records a failing gate and cross-validation when configured", async () => {
    const result = await train(config({ gate: { min_roc_auc: 0.999 }, training: { cv_folds: 3 } }), "g");
    expect(result.gate.passed).toBe(false);
    expect(result.gate.checks).toEqual([{ metric: "roc_auc", bound: "min", limit: 0.999, value: result.evaluation.roc_auc, passed: false }]);
    const cv = result.manifest.metrics.cross_validation as { folds: number; summary: { roc_auc: { mean: number; std: number } } };
    expect(cv.folds).toBe(3);
    expect(cv.summary.roc_auc.mean).toBeGreaterThan(0.6);
    expect(cv.summary.roc_auc.std).toBeGreaterThan(0);
  });

  it("trains the other families end to end with parity", async () => {
    for (const model of [{ type: "gradient_boosting", max_iter: 30, max_depth: 3 }, { type: "logistic_regression", C: 1 }]) {
      const result = await train(config({ model }), `f-${model.type}`);
      expect(result.manifest.model.family).toBe(model.type);
      expect(result.parity.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    }
  });
});
