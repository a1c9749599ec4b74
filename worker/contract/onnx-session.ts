/**
 * What every ONNX runtime adapter gives the rest of the code: workerd's ORT in the Worker
 * (inference/onnx-runtime.ts) and the Node ORT in the trainer and scripts (trainer/onnx/node-runtime.ts).
 * The publish path opens sessions through an injected opener of this type, so the same checks run
 * in both places.
 */
import type { TensorFeed } from "./feature-feeds";

export interface OnnxSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Runs the graph on [N,1] inputs and returns the named output's flat float data. */
  run(feeds: Record<string, TensorFeed>, rows: number, output: string): Promise<Float32Array>;
  /** One run, several float outputs (e.g. probabilities and the design matrix an explainer reads), in the order asked. */
  runOutputs(feeds: Record<string, TensorFeed>, rows: number, outputs: readonly string[]): Promise<Float32Array[]>;
  /** Frees the runtime's memory for this session; the session must not be used afterwards. */
  release(): Promise<void>;
}

export type OnnxSessionOpener = (bytes: Uint8Array) => Promise<OnnxSession>;

/** The named float outputs of one ORT run, in the order asked; an error naming any that is missing or not float32. */
export function floatOutputs(result: Readonly<Record<string, { type: string; data: unknown } | undefined>>, outputs: readonly string[]): Float32Array[] {
  return outputs.map((output) => {
    const tensor = result[output];
    if (!tensor) throw new Error(`the graph produced no output named ${output}`);
    if (tensor.type !== "float32") throw new Error(`${output} is ${tensor.type}, expected float32`);
    return tensor.data as Float32Array;
  });
}
