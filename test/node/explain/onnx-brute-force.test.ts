/**
 * The explainer a real training run writes, against the exported ONNX graph run in Node ORT (the
 * edge's WASM build), for a forest, gradient boosting and logistic regression:
 *  - brute force: for a handful of rows (missing numbers, a null category trained as a constant,
 *    an unseen category), every coalition of the 7 features × every background row is fed to the
 *    graph as a raw hybrid row (features in S from x, the rest from the background row), and the
 *    textbook Shapley formula on the graph's outputs must match explainRows: |Δ| ≤ 1e-6 in
 *    probability (forest), ≤ 1e-5 in log-odds (boosting, logistic regression);
 *  - additivity on every validation row: base + Σ = the graph's p (forest, ≤ 1e-5) or logit(p)
 *    (boosting, logistic; the graph's float32 p limits how exactly logit(p) is known, see below);
 *  - the artifacts: explainer.json's sha256 and size in the manifest, golden explanations equal to
 *    what explainRows computes from the file, and the background drawn from the training split.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../trainer/config";
import { generateChurnRows, toCsv } from "../../../trainer/data/synthetic";
import { createSession, runWithDesign, type Session } from "../../../trainer/onnx/node-runtime";
import { rawRows } from "../../../trainer/pipeline/prepare";
import { EXPLAINER_FILE, runTraining, type TrainResult } from "../../../trainer/pipeline/train-run";
import { prepareData } from "../../../trainer/pipeline/prepare";
import { parseExplainer, type Explainer } from "../../../worker/contract/explainer";
import { type FeatureRow, parseManifest } from "../../../worker/contract/manifest";
import { explainRows } from "../../../worker/explain/explain-rows";
import { TRAINED_FIXTURE_CONFIG } from "../../fixtures/trained-model";
import { shapleyValues } from "./shapley-reference";

const MODELS = {
  random_forest: { type: "random_forest", n_estimators: 12, max_depth: 5 },
  gradient_boosting: { type: "gradient_boosting", max_iter: 25, max_depth: 3, early_stopping_rounds: 0 },
  logistic_regression: { type: "logistic_regression" },
} as const;
type Kind = keyof typeof MODELS;

let dir: string;
const runs = new Map<Kind, { result: TrainResult; explainer: Explainer; bytes: Buffer; session: Session }>();

function configFor(kind: Kind, backgroundRows: number) {
  const doc = structuredClone(TRAINED_FIXTURE_CONFIG) as Record<string, unknown>;
  return parseConfig({
    ...doc,
    data: { ...(doc.data as object), train_path: join(dir, "train.csv") },
    training: { ...(doc.training as object), golden_rows: 20 },
    model: MODELS[kind],
    explain: { background_rows: backgroundRows },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "explain-onnx-"));
  const rows = generateChurnRows({ rows: 1000, seed: 11, messy: true }).map((row, i) => (i % 10 === 4 ? { ...row, payment_method: "" } : row));
  await writeFile(join(dir, "train.csv"), toCsv(rows));
  for (const kind of Object.keys(MODELS) as Kind[]) {
    const config = configFor(kind, 8);
    const result = await runTraining(config, { configText: JSON.stringify(config), artifactsDir: join(dir, kind), now: new Date("2026-03-01T00:00:00Z") });
    const bytes = await readFile(join(result.dir, EXPLAINER_FILE));
    const onnx = new Uint8Array(await readFile(join(result.dir, "model.onnx")));
    runs.set(kind, { result, explainer: parseExplainer(JSON.parse(bytes.toString("utf8"))), bytes, session: await createSession(onnx) });
  }
});

afterAll(async () => {
  for (const run of runs.values()) await run.session.release();
  await rm(dir, { recursive: true, force: true });
});

const logit = (p: number) => Math.log(p / (1 - p));

/** Rows to explain: validation rows, plus ones with a missing number, a null category and an unseen category. */
function probeRows(validation: FeatureRow[]): FeatureRow[] {
  const [a, b, c, d] = validation;
  return [
    a!,
    { ...b!, total_charges: null },
    { ...c!, payment_method: null, internet_service: "Satellite" },
    { ...d!, tenure: 0, total_charges: null, payment_method: "Bitcoin" },
  ];
}

describe.each(Object.keys(MODELS) as Kind[])("the %s explainer against the exported graph", (kind) => {
  const space = kind === "random_forest" ? "probability" : "log_odds";
  const toSpace = (p: number) => (space === "probability" ? p : logit(p));

  it("matches the textbook Shapley values of the graph over every coalition and background row", async () => {
    const { result, explainer, session } = runs.get(kind)!;
    const features = result.manifest.features;
    expect(features.length).toBeLessThanOrEqual(10);
    expect(explainer.background).toHaveLength(8);
    expect(explainer.space).toBe(space);
    const validation = result.manifest.golden.map((g) => g.input);
    const rows = probeRows(validation);
    const { design } = await runWithDesign(session, features, rows);
    const explained = explainRows(explainer, design);
    const F = features.length;
    let worst = 0;
    for (const [i, x] of rows.entries()) {
      // Every (coalition, background row) hybrid, in one run of the graph.
      const hybrids: FeatureRow[] = [];
      for (let s = 0; s < 1 << F; s++)
        for (const z of explainer.background)
          hybrids.push(Object.fromEntries(features.map((f, g) => [f.name, s & (1 << g) ? (x[f.name] ?? null) : (z[f.name] ?? null)])));
      const { p } = await runWithDesign(session, features, hybrids);
      const B = explainer.background.length;
      const v = (s: number) => {
        let total = 0;
        for (let r = 0; r < B; r++) total += toSpace(p[s * B + r]!);
        return total / B;
      };
      const expected = shapleyValues(F, v);
      const got = explained[i]!;
      expect(got.base_value).toBeCloseTo(v(0), space === "probability" ? 6 : 5);
      for (let g = 0; g < F; g++) worst = Math.max(worst, Math.abs(got.contributions[g]! - expected[g]!));
    }
    expect(worst).toBeLessThanOrEqual(space === "probability" ? 1e-6 : 1e-5);
    // Not vacuous: the rows get contributions well above the tolerance.
    expect(Math.max(...explained.flatMap((e) => e.contributions.map(Math.abs)))).toBeGreaterThan(0.01);
  });

  it("adds up on every validation row: base + Σ = the graph's p, or logit(p)", async () => {
    const { result, explainer, session } = runs.get(kind)!;
    const data = await prepareData(configFor(kind, 8));
    const validation = rawRows(data.validation.raw);
    const { p, design } = await runWithDesign(session, result.manifest.features, validation);
    const explained = explainRows(explainer, design);
    let worst = 0;
    explained.forEach((e, i) => {
      const total = e.contributions.reduce((s, c) => s + c, e.base_value);
      const pi = p[i]!;
      // In log-odds the reference is logit of a float32 p: one float32 step of p (2^-24 or finer,
      // plus ORT's float32 sigmoid, within 2e-7) moves logit(p) by ~ 2e-7 / (p (1 - p)).
      const allowed = space === "probability" ? 1e-5 : Math.max(1e-5, 4e-7 / (pi * (1 - pi)));
      const gap = Math.abs(total - toSpace(pi));
      expect(gap, `row ${i}: p ${pi}`).toBeLessThanOrEqual(allowed);
      worst = Math.max(worst, gap);
    });
    expect(validation.length).toBe(250);
  });

  it("writes explainer.json with its sha256 and size in the manifest and golden explanations that reproduce", async () => {
    const { result, explainer, bytes } = runs.get(kind)!;
    const manifest = parseManifest(JSON.parse(await readFile(join(result.dir, "manifest.json"), "utf8")));
    const { importance, ...block } = manifest.explainer!;
    expect(block).toEqual({
      sha256: createHash("sha256").update(bytes).digest("hex"),
      size: bytes.byteLength,
      space,
      design_output: "design",
      background_rows: 8,
    });
    // Global importance over the validation split: one mean |contribution| per feature.
    expect(Object.keys(importance!.mean_abs).sort()).toEqual(manifest.features.map((f) => f.name).sort());
    expect(explainer.features.map((f) => f.name)).toEqual(manifest.features.map((f) => f.name));
    expect(explainer.features.find((f) => f.name === "contract_type")!.columns).toHaveLength(3);
    const { design } = await runWithDesign(runs.get(kind)!.session, manifest.features, manifest.golden.map((g) => g.input));
    expect(manifest.golden.map((g) => g.explanation)).toEqual(explainRows(explainer, design));
  });
});

describe("the trainer's background", () => {
  it("is drawn from the training split with the seed: the same rows every run, other rows for another seed", async () => {
    const { explainer } = runs.get("random_forest")!;
    const data = await prepareData(configFor("random_forest", 8));
    const train = rawRows(data.train.raw).map((r) => JSON.stringify(r));
    const validation = new Set(rawRows(data.validation.raw).map((r) => JSON.stringify(r)));
    for (const row of explainer.background) {
      expect(train).toContain(JSON.stringify(row));
      expect(validation.has(JSON.stringify(row))).toBe(false);
    }
    const again = runs.get("gradient_boosting")!.explainer;
    expect(again.background).toEqual(explainer.background);
    const other = configFor("random_forest", 8);
    other.training.random_state = 8;
    const reseeded = await runTraining(other, { configText: "{}", artifactsDir: join(dir, "reseeded"), now: new Date("2026-03-01T00:00:00Z") });
    const otherBackground = parseExplainer(JSON.parse(await readFile(join(reseeded.dir, EXPLAINER_FILE), "utf8"))).background;
    expect(otherBackground).not.toEqual(explainer.background);
  });

  it("writes no explainer when background_rows is 0", async () => {
    const result = await runTraining(configFor("logistic_regression", 0), { configText: "{}", artifactsDir: join(dir, "none"), now: new Date("2026-03-01T00:00:00Z") });
    expect(result.manifest.explainer).toBeUndefined();
    expect(result.manifest.golden.every((g) => g.explanation === undefined)).toBe(true);
    await expect(readFile(join(result.dir, EXPLAINER_FILE))).rejects.toThrow(/ENOENT/);
  });
});
