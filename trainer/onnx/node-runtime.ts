/**
 * onnxruntime-web's WASM build running in Node: the same binary and the same single-threaded
 * kernels the edge worker runs, so a parity check here speaks for serving. openNodeSession is the
 * OnnxSessionOpener (worker/inference/onnx-session.ts) that scripts hand to publishVersion.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as ort from "onnxruntime-web/wasm";
import type { FeatureSpec, FeatureRow } from "../../worker/contract/manifest";
import { buildFeeds, type TensorFeed } from "../../worker/contract/feature-feeds";
import { floatOutputs, type OnnxSessionOpener } from "../../worker/contract/onnx-session";
import { DESIGN_OUTPUT, PROBABILITIES_OUTPUT } from "./export";

export type Session = ort.InferenceSession;

let configured = false;

function configure(): void {
  if (configured) return;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  // Handing ORT the bytes keeps it from locating the file through import.meta.url, which
  // test runners and bundlers rewrite.
  const wasmPath = createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
  ort.env.wasm.wasmBinary = readFileSync(wasmPath);
  configured = true;
}

export async function createSession(bytes: Uint8Array): Promise<Session> {
  configure();
  return ort.InferenceSession.create(bytes);
}

/** The edge's own feeds (worker/contract/feature-feeds.ts) as ORT tensors. */
export function buildTensors(features: readonly FeatureSpec[], rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
  return feedTensors(buildFeeds(features, rows).feeds, rows.length);
}

function feedTensors(feeds: Record<string, TensorFeed>, rows: number): Record<string, ort.Tensor> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(feeds)) {
    tensors[name] = feed.kind === "float" ? new ort.Tensor("float32", feed.data, [rows, 1]) : new ort.Tensor("string", feed.data, [rows, 1]);
  }
  return tensors;
}

export const openNodeSession: OnnxSessionOpener = async (bytes) => {
  const session = await createSession(bytes);
  const runOutputs = async (feeds: Record<string, TensorFeed>, rows: number, outputs: readonly string[]): Promise<Float32Array[]> => {
    return floatOutputs(await session.run(feedTensors(feeds, rows), [...outputs]), outputs);
  };
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, rows, output) {
      const [data] = await runOutputs(feeds, rows, [output]);
      return data!;
    },
    runOutputs,
    release: () => session.release(),
  };
};

/** The raw `probabilities` output: row-major [N,2] = [1-p, p]. */
export async function runProbabilities(
  session: Session,
  features: readonly FeatureSpec[],
  rows: readonly FeatureRow[],
): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const out = await session.run(buildTensors(features, rows), [PROBABILITIES_OUTPUT]);
  const tensor = out[PROBABILITIES_OUTPUT];
  if (!tensor) throw new Error(`model has no ${PROBABILITIES_OUTPUT} output (got ${Object.keys(out).join(", ")})`);
  if (tensor.type !== "float32") throw new Error(`${PROBABILITIES_OUTPUT} is ${tensor.type}, expected float32`);
  return { dims: tensor.dims, data: tensor.data as Float32Array };
}

/** p (the positive-class probability) per row. */
export async function runRows(
  session: Session,
  features: readonly FeatureSpec[],
  rows: readonly FeatureRow[],
): Promise<Float32Array> {
  if (rows.length === 0) return new Float32Array(0);
  const { dims, data } = await runProbabilities(session, features, rows);
  if (dims.length !== 2 || dims[0] !== rows.length || dims[1] !== 2)
    throw new Error(`${PROBABILITIES_OUTPUT} has shape [${dims.join(",")}], expected [${rows.length},2]`);
  const p = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) p[i] = data[2 * i + 1]!;
  return p;
}

/** p per row and the `design` output (row-major [N, width]) from one run of the graph. */
export async function runWithDesign(
  session: Session,
  features: readonly FeatureSpec[],
  rows: readonly FeatureRow[],
): Promise<{ p: Float32Array; design: Float32Array; width: number }> {
  const out = await session.run(buildTensors(features, rows), [PROBABILITIES_OUTPUT, DESIGN_OUTPUT]);
  const probabilities = out[PROBABILITIES_OUTPUT];
  const design = out[DESIGN_OUTPUT];
  if (!probabilities || !design) throw new Error(`the graph must output ${PROBABILITIES_OUTPUT} and ${DESIGN_OUTPUT} (got ${Object.keys(out).join(", ")})`);
  if (design.type !== "float32" || design.dims.length !== 2 || design.dims[0] !== rows.length)
    throw new Error(`${DESIGN_OUTPUT} is ${design.type} [${design.dims.join(",")}], expected float32 [${rows.length}, width]`);
  const data = probabilities.data as Float32Array;
  const p = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) p[i] = data[2 * i + 1]!;
  return { p, design: design.data as Float32Array, width: design.dims[1]! };
}
