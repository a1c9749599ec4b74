/**
 * Open Inference Protocol v2 request inputs, for the workers tests and the e2e test alike: one
 * tensor per feature holding the rows' values in order (a missing value as null), numeric features
 * as FP32 (or FP64) and categorical ones as BYTES, shaped [N] or [N, 1].
 */
import type { FeatureSpec } from "../../worker/contract/manifest";

export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export function oipInputs(
  features: readonly Pick<FeatureSpec, "name" | "kind">[],
  rows: readonly Record<string, unknown>[],
  options: { column?: boolean; numeric?: "FP32" | "FP64" } = {},
): OipTensor[] {
  return features.map((f) => ({
    name: f.name,
    shape: options.column ? [rows.length, 1] : [rows.length],
    datatype: f.kind === "numeric" ? (options.numeric ?? "FP32") : "BYTES",
    data: rows.map((r) => r[f.name] ?? null),
  }));
}
