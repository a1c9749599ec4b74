/**
 * Per-isolate count of categorical values never seen in training, by model version and feature.
 * They are scored (one-hot "ignore"), and counted here so operators can see them; the monitoring
 * work persists samples to D1 for cross-isolate views.
 */
const counts = new Map<string, Map<string, number>>();

export function recordUnknownCategories(versionKey: string, unknown: Record<string, number>): void {
  for (const [feature, n] of Object.entries(unknown)) {
    let perFeature = counts.get(versionKey);
    if (!perFeature) counts.set(versionKey, (perFeature = new Map()));
    perFeature.set(feature, (perFeature.get(feature) ?? 0) + n);
  }
}

export function unknownCategoryCounts(): Record<string, Record<string, number>> {
  return Object.fromEntries([...counts].map(([key, m]) => [key, Object.fromEntries(m)]));
}
