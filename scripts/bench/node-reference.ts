/**
 * Reference figures: the same ORT wasm binary, single-threaded, running the same model on the same
 * rows in Node, where clocks work, with the worker's session options and tensor shapes, cold and
 * after the same warm-up as the workerd probe. Beside the probe they tell whether a cost belongs to
 * ORT itself or to running it inside workerd.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as ort from "onnxruntime-web/wasm";
import type { FeatureRow } from "../../worker/contract/manifest";
import { buildFeeds } from "../../worker/contract/feature-feeds";
import { median } from "./order-statistics";
import type { BenchModel } from "./registry-state";

/** One batch size's timing, in Node here and in workerd (probe-timing.ts), so the report can set them side by side. */
export interface PerCallFigure {
  phase: "cold" | "warm";
  rows: number;
  reps: number;
  samples: number;
  perCallMs: number;
  perRowMs: number;
}

export interface NodeFigure extends PerCallFigure {
  /** Median process CPU time per call (process.cpuUsage), less moved by other load than wall time. */
  cpuPerCallMs: number;
}

export async function measureInNode(
  model: BenchModel,
  options: { rowCounts: number[]; samples: number; targetMs: number; warmupS: number },
): Promise<NodeFigure[]> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = readFileSync(createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
  ort.env.logLevel = "error";
  const session = await ort.InferenceSession.create(model.onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const { manifest } = model;
  const goldens = manifest.golden.map((g) => g.input as FeatureRow);
  const output = manifest.onnx.output;
  const feedsFor = new Map<number, ReturnType<typeof buildFeeds>["feeds"]>();
  // As OnnxSession.run does: fresh tensors per call, read the output, dispose.
  const once = async (rows: number) => {
    let feeds = feedsFor.get(rows);
    if (!feeds) {
      feeds = buildFeeds(manifest.features, Array.from({ length: rows }, (_, i) => goldens[i % goldens.length]!)).feeds;
      feedsFor.set(rows, feeds);
    }
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      tensors[name] = feed.kind === "float" ? new ort.Tensor("float32", feed.data, [rows, 1]) : new ort.Tensor("string", feed.data, [rows, 1]);
    }
    const result = await session.run(tensors, [output]);
    for (const t of Object.values(result)) t.dispose();
  };
  const timeReps = async (rows: number, reps: number) => {
    const started = performance.now();
    for (let r = 0; r < reps; r++) await once(rows);
    return performance.now() - started;
  };
  const measure = async (phase: NodeFigure["phase"]) => {
    const figures: NodeFigure[] = [];
    for (const rows of options.rowCounts) {
      await timeReps(rows, 5);
      const probe = await timeReps(rows, 3);
      const reps = Math.max(1, Math.round((options.targetMs * 3) / Math.max(probe, 0.001)));
      const perCall: number[] = [];
      const cpuPerCall: number[] = [];
      for (let s = 0; s < options.samples; s++) {
        const cpu = process.cpuUsage();
        perCall.push((await timeReps(rows, reps)) / reps);
        const used = process.cpuUsage(cpu);
        cpuPerCall.push((used.user + used.system) / 1000 / reps);
      }
      const perCallMs = median(perCall);
      figures.push({ phase, rows, reps, samples: options.samples, perCallMs, perRowMs: perCallMs / rows, cpuPerCallMs: median(cpuPerCall) });
    }
    return figures;
  };
  try {
    const cold = await measure("cold");
    if (options.warmupS <= 0) return cold;
    const biggest = Math.max(...options.rowCounts);
    const until = performance.now() + options.warmupS * 1000;
    while (performance.now() < until) await once(biggest);
    return [...cold, ...(await measure("warm"))];
  } finally {
    await session.release();
  }
}
