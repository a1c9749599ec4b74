/**
 * Attribution drift for one version and window (attribution-drift.ts says what and why): the chosen
 * sampled rows go through the version's own ONNX session for the graph's design output, as a
 * request asking `?explain` does, and are explained against the version's explainer.json. Only
 * the cron calls it, once per report it computes; a version without an explainer, or a window
 * without samples, gets no block. A failure (explainer.json missing or not matching, the session
 * not loading) is the block's `error` status: the drift report stands without it.
 */
import { buildFeeds } from "../contract/feature-feeds";
import type { FeatureRow, Manifest } from "../contract/manifest";
import { buildRowSchema } from "../contract/row-schema";
import { explainRows } from "../explain/explain-rows";
import { runWithSession } from "../inference/model-cache";
import { getVersionRow } from "../registry/versions";
import { loadExplainer } from "../scoring/explanations";
import type { Services } from "../services";
import {
  ATTRIBUTION_MAX_ROWS,
  type AttributionDrift,
  chooseAttributionRows,
  reusableAttribution,
  rowsFingerprint,
  summariseAttribution,
} from "./attribution-drift";
import type { WindowSample } from "./drift-report-types";

export interface WindowAttributionOptions {
  /** The `attribution` of the report stored for this window, if any: kept when computed from the same rows. */
  stored?: unknown;
  /** Recompute even when the stored block could be kept. */
  force?: boolean;
  maxRows?: number;
}

export async function windowAttribution(
  services: Pick<Services, "db" | "models" | "settings">,
  target: { model: string; version: number; manifest: Manifest },
  samples: readonly WindowSample[],
  options: WindowAttributionOptions = {},
): Promise<AttributionDrift | undefined> {
  const block = target.manifest.explainer;
  if (!block || samples.length === 0) return undefined;
  const maxRows = options.maxRows ?? ATTRIBUTION_MAX_ROWS;
  const chosen = chooseAttributionRows(samples, maxRows);
  const fingerprint = await rowsFingerprint(chosen);
  const kept = options.force ? null : reusableAttribution(options.stored, fingerprint, maxRows);
  if (kept) return { ...kept, window_rows: samples.length };
  try {
    const schema = buildRowSchema(target.manifest);
    const rows: FeatureRow[] = [];
    for (const sample of chosen) {
      const parsed = schema.safeParse(sample.features);
      if (parsed.success) rows.push(parsed.data as FeatureRow);
    }
    if (rows.length === 0) return { status: "error", reason: `none of the ${chosen.length} chosen sampled rows validates against the manifest` };
    const { settings } = services;
    const row = await getVersionRow(services.db, target.model, target.version);
    const explainer = await loadExplainer(services.models, { name: target.model, version: target.version, manifest: target.manifest }, { backoffMs: settings.backoffMs });
    const { feeds } = buildFeeds(target.manifest.features, rows);
    const sessionOptions = { backoffMs: settings.backoffMs, maxCachedSessions: settings.maxCachedSessions, pinned: true };
    const [design] = await runWithSession(services.models, row, sessionOptions, (session) => session.runOutputs(feeds, rows.length, [block.design_output]));
    return summariseAttribution({
      space: explainer.space,
      features: explainer.features.map((f) => f.name),
      explanations: explainRows(explainer, design!),
      reference: block.importance,
      windowRows: samples.length,
      skippedRows: chosen.length - rows.length,
      maxRows,
      rowsFingerprint: fingerprint,
    });
  } catch (error) {
    return { status: "error", reason: (error instanceof Error ? error.message : String(error)).slice(0, 500) };
  }
}
