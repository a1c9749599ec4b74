/**
 * The only module that imports onnxruntime-web. It adapts ORT's WASM build to workerd, which
 * forbids compiling WebAssembly from bytes at run time but lets a module import a precompiled
 * `.wasm` file as a WebAssembly.Module (wrangler's default rule).
 *
 * ORT 1.30 has no option that takes a precompiled Module, so: give ORT a zero-length `wasmBinary`
 * (it then neither fetches nor dynamically imports anything) and wrap `WebAssembly.instantiate`
 * once, so the call whose source is that zero-length binary instantiates the imported Module.
 * Every other call passes through untouched.
 */
import * as ort from "onnxruntime-web/wasm";
import ortWasmModule from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import { floatOutputs, type OnnxSession } from "../contract/onnx-session";
import type { TensorFeed } from "../contract/feature-feeds";

const placeholder = new Uint8Array(0);
let configured = false;

function configureOnce(): void {
  if (configured) return;
  configured = true;
  const original = WebAssembly.instantiate.bind(WebAssembly) as (
    source: unknown,
    imports?: WebAssembly.Imports,
  ) => Promise<unknown>;
  (WebAssembly as { instantiate: unknown }).instantiate = async (source: unknown, imports?: WebAssembly.Imports) => {
    if (isEmptyBinary(source)) {
      const instance = await WebAssembly.instantiate(ortWasmModule as WebAssembly.Module, imports);
      return { instance, module: ortWasmModule };
    }
    return original(source, imports);
  };
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = placeholder;
  ort.env.logLevel = "error";
}

/** ORT hands our placeholder (or a copy or its buffer) back; no real wasm binary is ever empty. */
function isEmptyBinary(source: unknown): boolean {
  return (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) && source.byteLength === 0;
}

export async function createOnnxSession(bytes: Uint8Array): Promise<OnnxSession> {
  configureOnce();
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  const runOutputs = async (feeds: Record<string, TensorFeed>, rows: number, outputs: readonly string[]): Promise<Float32Array[]> => {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      tensors[name] =
        feed.kind === "float" ? new ort.Tensor("float32", feed.data, [rows, 1]) : new ort.Tensor("string", feed.data, [rows, 1]);
    }
    const result = await session.run(tensors, [...outputs]);
    try {
      return floatOutputs(result, outputs);
    } finally {
      for (const t of Object.values(result)) t.dispose();
    }
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
}
