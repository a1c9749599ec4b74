/**
 * Turns rows into ONNX feeds: one [N,1] tensor per manifest feature, float32 for numeric (NaN for
 * a missing value, which the graph imputes) and string for categorical ("" for missing, which the
 * graph's one-hot encodes as all zeros). All preprocessing happens inside the graph. The trainer's
 * parity check in Node builds its feeds here too, so what it verifies is what the edge sends.
 * Category values go through normalizeCategory, the rule the trainer read its CSV with.
 */
import { normalizeCategory } from "./category-value";
import type { CategoricalFeatureSpec, FeatureRow, FeatureSpec } from "./manifest";

export type TensorFeed = { kind: "float"; data: Float32Array } | { kind: "string"; data: string[] };

export interface Feeds {
  feeds: Record<string, TensorFeed>;
  /** Per open categorical feature, how many rows carried a value never seen in training. */
  unknownCategories: Record<string, number>;
}

// Feature specs come from cached compiled manifests, so their category sets are built once.
const knownSets = new WeakMap<CategoricalFeatureSpec, Set<string>>();

function knownCategories(spec: CategoricalFeatureSpec): Set<string> {
  let set = knownSets.get(spec);
  if (!set) knownSets.set(spec, (set = new Set(spec.categories)));
  return set;
}

export function buildFeeds(features: readonly FeatureSpec[], rows: readonly FeatureRow[]): Feeds {
  const feeds: Record<string, TensorFeed> = {};
  const unknownCategories: Record<string, number> = {};
  const n = rows.length;
  for (const spec of features) {
    if (spec.kind === "numeric") {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![spec.name];
        if (typeof v === "number") data[i] = v;
        else if (v === null || v === undefined) data[i] = Number.NaN;
        else throw new TypeError(`row ${i}: numeric feature ${spec.name} got ${JSON.stringify(v)}`);
      }
      feeds[spec.name] = { kind: "float", data };
    } else {
      const known = knownCategories(spec);
      const data = new Array<string>(n);
      let unknown = 0;
      for (let i = 0; i < n; i++) {
        const v = rows[i]![spec.name];
        if (typeof v === "string") {
          const value = normalizeCategory(v);
          if (value !== "" && !known.has(value)) unknown++;
          data[i] = value;
        } else if (v === null || v === undefined) data[i] = "";
        else throw new TypeError(`row ${i}: categorical feature ${spec.name} got ${JSON.stringify(v)}`);
      }
      if (unknown > 0) unknownCategories[spec.name] = unknown;
      feeds[spec.name] = { kind: "string", data };
    }
  }
  return { feeds, unknownCategories };
}
