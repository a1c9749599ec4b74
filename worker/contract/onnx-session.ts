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
  /** Frees the runtime's memory for this session; the session must not be used afterwards. */
  release(): Promise<void>;
}

export type OnnxSessionOpener = (bytes: Uint8Array) => Promise<OnnxSession>;
