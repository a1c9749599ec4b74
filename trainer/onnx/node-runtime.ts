/**
 * onnxruntime-web's WASM build running in Node: the same binary and the same single-threaded
 * kernels the edge worker runs, so a parity check here speaks for serving.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as ort from "onnxruntime-web/wasm";
import type { FeatureSpec, FeatureRow } from "../../worker/contract/manifest";
import { PROBABILITIES_OUTPUT } from "./export";

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

/** One [N,1] tensor per feature: numeric float32 with NaN for null, categorical strings with "" for null. */
export function buildFeeds(features: readonly FeatureSpec[], rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const feature of features) {
    if (feature.kind === "numeric") {
      const data = new Float32Array(rows.length);
      rows.forEach((row, i) => {
        const v = row[feature.name];
        if (v === null || v === undefined) data[i] = Number.NaN;
        else if (typeof v === "number") data[i] = v;
        else throw new Error(`row ${i}: numeric feature ${feature.name} got the string ${JSON.stringify(v)}`);
      });
      feeds[feature.name] = new ort.Tensor("float32", data, [rows.length, 1]);
    } else {
      const data = rows.map((row, i) => {
        const v = row[feature.name];
        if (v === null || v === undefined) return "";
        if (typeof v === "string") return v;
        throw new Error(`row ${i}: categorical feature ${feature.name} got the number ${v}`);
      });
      feeds[feature.name] = new ort.Tensor("string", data, [rows.length, 1]);
    }
  }
  return feeds;
}

/** The raw `probabilities` output: row-major [N,2] = [1-p, p]. */
export async function runProbabilities(
  session: Session,
  features: readonly FeatureSpec[],
  rows: readonly FeatureRow[],
): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const out = await session.run(buildFeeds(features, rows));
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
