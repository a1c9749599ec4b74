/**
 * A small, deterministic ONNX graph builder over onnx-proto's generated protobuf classes.
 * Nodes, initializers and attributes keep insertion order, and nothing time- or environment-
 * dependent is written, so the same calls give byte-identical models.
 */
import { createRequire } from "node:module";
import type { onnx as Onnx } from "onnx-proto";

// onnx-proto is CommonJS assigning `module.exports = $root`, which Node's ESM loader exposes only
// as a default export; its typings declare named ES exports. require() gives the real object.
const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof import("onnx-proto");

export const DataType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  UINT8: onnx.TensorProto.DataType.UINT8,
  STRING: onnx.TensorProto.DataType.STRING,
} as const;
export type ElementType = (typeof DataType)[keyof typeof DataType];

export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: readonly string[] }
  | { tensor: TensorValue };

export type TensorValue =
  | { type: "float"; dims: readonly number[]; values: ArrayLike<number> }
  | { type: "uint8"; dims: readonly number[]; values: ArrayLike<number> }
  | { type: "string"; dims: readonly number[]; values: readonly string[] };

export const ML_DOMAIN = "ai.onnx.ml";

const utf8 = new TextEncoder();

export class GraphBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();

  /** Graph input of shape [N, width] with a symbolic batch dimension. */
  input(name: string, type: ElementType, width: number): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, width));
    return name;
  }

  /** Marks an existing tensor as a graph output of shape [N, width], or [N, ...width] for higher ranks. */
  output(name: string, type: ElementType, width: number | readonly number[]): void {
    this.outputs.push(valueInfo(name, type, width));
  }

  constant(name: string, tensor: TensorValue): string {
    this.claim(name);
    this.initializers.push({ ...tensorProto(tensor), name });
    return name;
  }

  /** Adds a node whose single output is `output`; the node takes the output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    output: string,
    attributes: Record<string, AttributeValue> = {},
    domain = "",
  ): string {
    this.claim(output);
    this.nodes.push({
      name: output,
      opType,
      domain,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return output;
  }

  /** Whether a tensor name is already used (inputs, constants, node outputs). */
  has(name: string): boolean {
    return this.names.has(name);
  }

  encode(meta: {
    graphName: string;
    irVersion: number;
    opsets: Record<string, number>;
    producerName: string;
    producerVersion: string;
    docString: string;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: meta.irVersion,
      producerName: meta.producerName,
      producerVersion: meta.producerVersion,
      docString: meta.docString,
      opsetImport: Object.entries(meta.opsets).map(([domain, version]) => ({ domain, version })),
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX graph: tensor name "${name}" is used twice`);
    this.names.add(name);
  }
}

/** Decodes a model, for tests and inspection. */
export function decodeModel(bytes: Uint8Array): Onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

function valueInfo(name: string, type: ElementType, width: number | readonly number[]): Onnx.IValueInfoProto {
  const rest = typeof width === "number" ? [width] : width;
  return {
    name,
    type: { tensorType: { elemType: type, shape: { dim: [{ dimParam: "N" }, ...rest.map((d) => ({ dimValue: d }))] } } },
  };
}

function tensorProto(tensor: TensorValue): Onnx.ITensorProto {
  const dims = [...tensor.dims];
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.values.length)
    throw new Error(`ONNX tensor: dims [${dims}] hold ${count} values, got ${tensor.values.length}`);
  if (tensor.type === "float") return { dims, dataType: DataType.FLOAT, floatData: Array.from(tensor.values) };
  if (tensor.type === "string") return { dims, dataType: DataType.STRING, stringData: tensor.values.map((v) => utf8.encode(v)) };
  // uint8 tensors travel in int32_data when not raw (onnx.proto).
  return { dims, dataType: DataType.UINT8, int32Data: Array.from(tensor.values) };
}

function attributeProto(name: string, value: AttributeValue): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("int" in value) return { name, type: T.INT, i: value.int };
  if ("float" in value) return { name, type: T.FLOAT, f: value.float };
  if ("ints" in value) return { name, type: T.INTS, ints: [...value.ints] };
  if ("floats" in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  if ("strings" in value) return { name, type: T.STRINGS, strings: value.strings.map((s) => utf8.encode(s)) };
  return { name, type: T.TENSOR, t: tensorProto(value.tensor) };
}
