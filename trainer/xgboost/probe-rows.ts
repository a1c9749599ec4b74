/**
 * Rows added to an import's parity check so that it covers what the data may not: every numeric
 * split threshold exactly (x == t goes right in XGBoost), each feature missing, every feature
 * missing at once, and categories the booster never saw. Each probe is a data row with one change.
 */
import type { FeatureRow } from "../../worker/contract/manifest";
import type { BoosterLayout } from "./map-features";
import type { Booster } from "./read-booster";

export const UNSEEN_CATEGORY = "\u2205 never seen in training";
/** Enough to reach every threshold of a few-hundred-tree booster without a huge reference run. */
const MAX_THRESHOLD_PROBES = 5000;

export function probeRows(booster: Booster, layout: BoosterLayout, base: readonly FeatureRow[]): FeatureRow[] {
  if (base.length === 0) return [];
  const thresholds = new Map<string, number>();
  for (const tree of booster.trees)
    for (let node = 0; node < tree.left.length; node++) {
      const column = layout.columns[tree.feature[node]!];
      if (tree.left[node] !== -1 && column?.kind === "numeric") thresholds.set(`${column.feature}\u0000${tree.condition[node]}`, tree.condition[node]!);
    }
  const probes: FeatureRow[] = [];
  const at = (i: number): FeatureRow => ({ ...base[i % base.length]! });
  [...thresholds].slice(0, MAX_THRESHOLD_PROBES).forEach(([key, t], i) => {
    probes.push({ ...at(i), [key.slice(0, key.indexOf("\u0000"))]: t });
  });
  const names = [...layout.numeric, ...layout.categorical.map((c) => c.name)];
  names.forEach((name, i) => probes.push({ ...at(i), [name]: null }));
  layout.categorical.forEach((c, i) => probes.push({ ...at(i), [c.name]: UNSEEN_CATEGORY }));
  probes.push(Object.fromEntries(names.map((name) => [name, null])));
  return probes;
}
