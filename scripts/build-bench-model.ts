/**
 * Writes a serving-sized model for the inference benchmark: a forest of seeded random trees
 * (200 x depth 8 by default, nearly full) over the churn features, exported with the real exporter,
 * with its manifest. Splits are random, not trained: the point is the shape and the cost.
 *
 *   npx tsx scripts/build-bench-model.ts [out-dir=artifacts/bench-forest] [--trees 200] [--depth 8] [--seed 42]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineCommand, runMain } from "citty";
import type { Tree } from "../trainer/models/types";
import { createSession, runRows } from "../trainer/onnx/node-runtime";
import { Rng } from "../trainer/random";
import {
  buildChurnModel,
  churnColumn,
  churnFeatures,
  churnGoldenInputs,
  churnPreprocessing,
  churnScaled,
  randomChurnRows,
  treeFromSpec,
  type TreeSpec,
} from "../test/fixtures/fixture-models";

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

async function buildBenchModel(options: { outDir: string; trees: number; depth: number; seed: number }) {
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
  const buildMs = performance.now() - started;
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, "model.onnx"), fixture.onnx);
  await writeFile(join(options.outDir, "manifest.json"), `${JSON.stringify(fixture.manifest, null, 2)}\n`);
  const nodes = trees.reduce((n, t) => n + t.feature.length, 0);
  return { fixture, nodes, buildMs };
}

/** Wall (min, median) and CPU (median) time of ORT-in-Node runs after a warm-up: min is the figure least hurt by a busy machine. */
async function timeRows(onnx: Uint8Array, rowCount: number, runs: number): Promise<string> {
  const session = await createSession(onnx);
  const rows = randomChurnRows(new Rng("bench-rows"), rowCount);
  await runRows(session, churnFeatures, rows);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await runRows(session, churnFeatures, rows);
    wall.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  await session.release();
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  const mid = runs >> 1;
  return `wall min ${sorted(wall)[0]!.toFixed(2)} ms, median ${wall[mid]!.toFixed(2)} ms; cpu median ${sorted(cpu)[mid]!.toFixed(2)} ms`;
}

const command = defineCommand({
  meta: { name: "build-bench-model", description: "Write a random 200-tree depth-8 forest + manifest for the inference benchmark" },
  args: {
    outDir: { type: "positional", description: "Output directory", required: false, default: "artifacts/bench-forest" },
    trees: { type: "string", default: "200" },
    depth: { type: "string", default: "8" },
    seed: { type: "string", default: "42" },
  },
  async run({ args }) {
    const trees = Number(args.trees);
    const depth = Number(args.depth);
    const seed = Number(args.seed);
    for (const [name, v] of [["--trees", trees], ["--depth", depth], ["--seed", seed]] as const)
      if (!Number.isInteger(v) || v < (name === "--seed" ? 0 : 1)) throw new Error(`${name} must be a whole number, got ${v}`);
    const { fixture, nodes, buildMs } = await buildBenchModel({ outDir: args.outDir, trees, depth, seed });
    console.log(`wrote ${join(args.outDir, "model.onnx")} (${fixture.onnx.byteLength} bytes, sha256 ${fixture.manifest.onnx.sha256.slice(0, 12)}…) and manifest.json`);
    console.log(`${trees} trees, ${nodes} tree nodes; export + golden scoring ${buildMs.toFixed(0)} ms`);
    for (const rowCount of [1, 100, 1000])
      console.log(`ORT wasm in Node (1 thread), ${rowCount} rows: ${await timeRows(fixture.onnx, rowCount, 21)}`);
  },
});

void runMain(command);
