/**
 * Writes the serving-sized model for the inference benchmark (scripts/bench/bench-model.ts) and
 * times it in ORT in Node. `npm run bench:predict` builds it itself when it is missing.
 *
 *   npx tsx scripts/build-bench-model.ts [out-dir=artifacts/bench-forest] [--trees 200] [--depth 8] [--seed 42]
 */
import { join } from "node:path";
import { defineCommand, runMain } from "citty";
import { createSession, runRows } from "../trainer/onnx/node-runtime";
import { Rng } from "../trainer/random";
import { churnFeatures, randomChurnRows } from "../test/fixtures/fixture-models";
import { BENCH_MODEL_DEFAULTS, buildBenchModel } from "./bench/bench-model";
import { median } from "./bench/order-statistics";
import { positiveArg } from "./bench/positive-arg";

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
  return `wall min ${Math.min(...wall).toFixed(2)} ms, median ${median(wall).toFixed(2)} ms; cpu median ${median(cpu).toFixed(2)} ms`;
}

const command = defineCommand({
  meta: { name: "build-bench-model", description: "Write a random 200-tree depth-8 forest + manifest for the inference benchmark" },
  args: {
    outDir: { type: "positional", description: "Output directory", required: false, default: "artifacts/bench-forest" },
    trees: { type: "string", default: String(BENCH_MODEL_DEFAULTS.trees) },
    depth: { type: "string", default: String(BENCH_MODEL_DEFAULTS.depth) },
    seed: { type: "string", default: String(BENCH_MODEL_DEFAULTS.seed) },
  },
  async run({ args }) {
    const trees = positiveArg("trees", args.trees);
    const depth = positiveArg("depth", args.depth);
    const seed = Number(args.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number, got ${args.seed}`);
    const { fixture, nodes, buildMs } = await buildBenchModel({ outDir: args.outDir, trees, depth, seed });
    console.log(`wrote ${join(args.outDir, "model.onnx")} (${fixture.onnx.byteLength} bytes, sha256 ${fixture.manifest.onnx.sha256.slice(0, 12)}…) and manifest.json`);
    console.log(`${trees} trees, ${nodes} tree nodes; export + golden scoring ${buildMs.toFixed(0)} ms`);
    for (const rowCount of [1, 100, 1000])
      console.log(`ORT wasm in Node (1 thread), ${rowCount} rows: ${await timeRows(fixture.onnx, rowCount, 21)}`);
  },
});

void runMain(command);
