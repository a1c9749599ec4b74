/**
 * The inference benchmark's model: a forest of seeded random trees (200 x depth 8 by default,
 * nearly full) over the churn features, exported with the real exporter, with its manifest. Splits
 * are random, not trained: the point is the shape and the cost. With an explainer.json over 100
 * random customers, so `?explain` can be measured on it too. Written by
 * scripts/build-bench-model.ts, and by scripts/bench-predict.ts when it is missing.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TrainedModel, Tree } from "../../trainer/models/types";
import { buildExplainer } from "../../trainer/explain/build-explainer";
import { createSession, runWithDesign } from "../../trainer/onnx/node-runtime";
import { DESIGN_OUTPUT } from "../../worker/contract/explainer";
import type { FeatureRow } from "../../worker/contract/manifest";
import { explainRows } from "../../worker/explain/explain-rows";
import { Rng } from "../../trainer/random";
import {
  buildChurnModel,
  churnColumn,
  churnFeatures,
  type FixtureModel,
  churnGoldenInputs,
  churnPreprocessing,
  churnScaled,
  randomChurnRows,
  treeFromSpec,
  type TreeSpec,
} from "../../test/fixtures/fixture-models";

/** Raw ranges a split threshold is drawn from, per numeric feature. */
const NUMERIC_RANGES: Record<string, [number, number]> = {
  tenure: [0, 72],
  monthly_charges: [18, 119],
  total_charges: [0, 8700],
  num_products: [1, 10],
};
const CATEGORY_COLUMNS = churnPreprocessing.categorical.flatMap((c) => c.categories.map((v) => churnColumn(c.name, v)));
const NUMERIC_FEATURES = churnPreprocessing.numeric.map((n) => n.name);

function randomTree(rng: Rng, depth: number): Tree {
  const grow = (d: number): TreeSpec => {
    // Mostly full: a node stops early only rarely, as a deep forest's nodes run out of samples.
    if (d === depth || (d > 2 && rng.next() < 0.04)) return Math.round(rng.next() * 1e4) / 1e4;
    const pickNumeric = rng.next() < 0.6;
    if (pickNumeric) {
      const name = NUMERIC_FEATURES[rng.int(NUMERIC_FEATURES.length)]!;
      const [lo, hi] = NUMERIC_RANGES[name]!;
      const raw = name === "num_products" ? lo + rng.int(hi - lo) + 0.5 : lo + rng.next() * (hi - lo);
      return [churnColumn(name), churnScaled(name, raw), grow(d + 1), grow(d + 1)];
    }
    return [CATEGORY_COLUMNS[rng.int(CATEGORY_COLUMNS.length)]!, 0.5, grow(d + 1), grow(d + 1)];
  };
  return treeFromSpec(grow(0));
}

export const BENCH_MODEL_DEFAULTS = { trees: 200, depth: 8, seed: 42 } as const;

export interface BenchModelOptions {
  outDir: string;
  trees: number;
  depth: number;
  seed: number;
}

/** Writes model.onnx and manifest.json (goldens scored by ORT in Node) into outDir. */
export async function buildBenchModel(options: BenchModelOptions) {
  const rng = new Rng(options.seed).fork("bench-forest");
  const trees = Array.from({ length: options.trees }, (_, t) => randomTree(rng.fork(t), options.depth));
  const started = performance.now();
  const fixture = await buildChurnModel({
    name: "churn-bench-forest",
    description: `Benchmark: ${options.trees} random (untrained) trees of depth ${options.depth}, seed ${options.seed}.`,
    model: { family: "random_forest", trees },
    params: { n_estimators: options.trees, max_depth: options.depth, seed: options.seed, random_splits: true },
    metrics: { note: "untrained benchmark model; scores are meaningless" },
    goldenInputs: [...churnGoldenInputs, ...randomChurnRows(rng.fork("golden"), 14)],
  });
  const explainer = await benchExplainer(fixture, { family: "random_forest", trees }, rng.fork("background"));
  fixture.manifest.explainer = explainer.block;
  fixture.manifest.golden = fixture.manifest.golden.map((g, i) => ({ ...g, explanation: explainer.golden[i]! }));
  const buildMs = performance.now() - started;
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, "model.onnx"), fixture.onnx);
  await writeFile(join(options.outDir, "manifest.json"), `${JSON.stringify(fixture.manifest, null, 2)}\n`);
  await writeFile(join(options.outDir, "explainer.json"), explainer.bytes);
  const nodes = trees.reduce((n, t) => n + t.feature.length, 0);
  return { fixture, trees, nodes, buildMs };
}

/** Rows of random customers the bench explainer explains against, as a trained model's background would be. */
export const BENCH_BACKGROUND_ROWS = 100;

/**
 * The bench forest's explainer.json, its manifest block and the golden rows' explanations, built as
 * the trainer builds them (trainer/explain/build-explainer.ts) over a background of random customers
 * whose design rows come from the exported graph's own `design` output.
 */
async function benchExplainer(fixture: FixtureModel, model: TrainedModel, rng: Rng) {
  const background = randomChurnRows(rng, BENCH_BACKGROUND_ROWS);
  const goldens = fixture.manifest.golden.map((g) => g.input as FeatureRow);
  const session = await createSession(fixture.onnx);
  try {
    const { design } = await runWithDesign(session, churnFeatures, background);
    const explainer = buildExplainer({ features: churnFeatures, preprocessing: churnPreprocessing, model, background, backgroundDesign: design });
    const golden = explainRows(explainer, (await runWithDesign(session, churnFeatures, goldens)).design);
    const bytes = new TextEncoder().encode(`${JSON.stringify(explainer)}\n`);
    const block = {
      sha256: createHash("sha256").update(bytes).digest("hex"),
      size: bytes.byteLength,
      space: explainer.space,
      design_output: DESIGN_OUTPUT,
      background_rows: background.length,
    };
    return { bytes, block, golden };
  } finally {
    await session.release();
  }
}
