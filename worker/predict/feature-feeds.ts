/**
 * Turns validated rows into ONNX feeds: one [N,1] tensor per manifest feature, float32 for numeric
 * (NaN for a missing value, which the graph imputes) and string for categorical ("" for missing,
 * which the graph's one-hot encodes as all zeros). All preprocessing happens inside the graph.
 */
import type { FeatureRow, Manifest } from "../contract/manifest";
import type { TensorFeed } from "../inference/onnx-runtime";

export interface Feeds {
  feeds: Record<string, TensorFeed>;
  /** Per categorical feature, how many rows carried a value never seen in training. */
  unknownCategories: Record<string, number>;
}

export function buildFeeds(manifest: Manifest, rows: readonly FeatureRow[]): Feeds {
  const feeds: Record<string, TensorFeed> = {};
  const unknownCategories: Record<string, number> = {};
  const n = rows.length;
  for (const spec of manifest.features) {
    if (spec.kind === "numeric") {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![spec.name];
        data[i] = typeof v === "number" ? v : Number.NaN;
      }
      feeds[spec.name] = { kind: "float", data };
    } else {
      const known = new Set(spec.categories);
      const data = new Array<string>(n);
      let unknown = 0;
      for (let i = 0; i < n; i++) {
        const v = rows[i]![spec.name];
        const s = typeof v === "string" ? v : "";
        if (s !== "" && !known.has(s)) unknown++;
        data[i] = s;
      }
      if (unknown > 0) unknownCategories[spec.name] = unknown;
      feeds[spec.name] = { kind: "string", data };
    }
  }
  return { feeds, unknownCategories };
}
