/**
 * Attribution drift, the pure part: a drift report's `attribution` block compares each feature's
 * mean |contribution| over the window's sampled rows (explained by the version's own explainer)
 * with the training-time importance in the manifest (mean |contribution| over validation rows).
 * A model can keep its input distributions and still lean on other features, or the reverse; this
 * shows which features drive the scores now versus at training.
 *
 * Cost is bounded: at most ATTRIBUTION_MAX_ROWS rows per window, the ones with the smallest sample
 * keys. Keys are uniform random numbers drawn when a row was sampled (sample-store.ts), so these
 * rows are a uniform sample of the window's sampled requests (every hour's reservoir keeps its
 * smallest keys, so the window's smallest ones are among them), and the same rows on every
 * recomputation. Their keys fingerprint the block: a report recomputed for the same window with
 * the same chosen rows reuses the block instead of explaining them again.
 */
import { z } from "zod";
import { type Explanation, type ExplanationSpace, explanationSpaceSchema } from "../contract/explainer";
import type { Manifest } from "../contract/manifest";
import { sha256Hex } from "../contract/sha256";
import { meanAbsContributions } from "../explain/global-importance";

/** Sampled rows explained per version and window, at most: ~10 ms each for a 200-tree depth-8 forest. */
export const ATTRIBUTION_MAX_ROWS = 200;

const count = z.number().int().min(0);
const meanAbs = z.number().min(0);

const computed = z
  .object({
    status: z.literal("ok"),
    space: explanationSpaceSchema.describe("probability (forests) or log_odds (boosting, logistic regression): the space of the contributions"),
    rows: count.describe("sampled rows explained"),
    window_rows: count.describe("sampled rows of the version in the window, all arms"),
    skipped_rows: count.describe("chosen rows whose stored values no longer validate against the manifest, left out"),
    max_rows: count.describe("the most rows explained per window"),
    selection: z.literal("smallest_sample_key").describe("the chosen rows: those with the smallest sample keys, a uniform random sample of the window's sampled requests, the same on every recomputation"),
    rows_fingerprint: z.string().describe("identifies the chosen rows; a recomputed report with the same rows keeps this block"),
    reference: z
      .object({ split: z.literal("validation"), rows: count })
      .strict()
      .nullable()
      .describe("where the reference numbers come from: the manifest's training-time importance; null when the manifest has none (an older trainer)"),
    features: z
      .array(
        z
          .object({
            name: z.string(),
            reference: meanAbs.nullable().describe("mean |contribution| over the validation rows at training; null without a reference"),
            current: meanAbs.describe("mean |contribution| over the window's explained rows"),
          })
          .strict(),
      )
      .describe("manifest order"),
  })
  .strict();

const failed = z
  .object({
    status: z.literal("error"),
    reason: z.string().describe("why the attribution could not be computed (e.g. explainer.json missing or not matching); the rest of the report stands"),
  })
  .strict();

export const attributionDriftSchema = z
  .discriminatedUnion("status", [computed, failed])
  .describe("Attribution drift, for versions with an explainer and a window with samples: mean |contribution| per feature, reference (training) vs current (the window)");

export type AttributionDrift = z.infer<typeof attributionDriftSchema>;
export type ComputedAttribution = z.infer<typeof computed>;

/** Up to maxRows items with the smallest sample keys, smallest first (equal keys keep their order). */
export function chooseAttributionRows<T extends { sampleKey: number }>(samples: readonly T[], maxRows: number): T[] {
  return samples
    .map((sample, index) => ({ sample, index }))
    .sort((a, b) => a.sample.sampleKey - b.sample.sampleKey || a.index - b.index)
    .slice(0, maxRows)
    .map((s) => s.sample);
}

/** A short hash of the chosen rows' keys (in the order chosen). */
export async function rowsFingerprint(chosen: readonly { sampleKey: number }[]): Promise<string> {
  const text = chosen.map((s) => String(s.sampleKey)).join(",");
  return (await sha256Hex(new TextEncoder().encode(text))).slice(0, 16);
}

export interface AttributionInput {
  space: ExplanationSpace;
  /** Feature names in the explanations' (manifest) order. */
  features: readonly string[];
  explanations: readonly Explanation[];
  /** The manifest's explainer.importance, when it has one. */
  reference: NonNullable<Manifest["explainer"]>["importance"];
  windowRows: number;
  skippedRows: number;
  maxRows: number;
  rowsFingerprint: string;
}

export function summariseAttribution(input: AttributionInput): ComputedAttribution {
  const current = meanAbsContributions(input.explanations);
  if (current.length !== input.features.length) throw new RangeError(`${current.length} contributions per row for ${input.features.length} features`);
  const reference = input.reference;
  return {
    status: "ok",
    space: input.space,
    rows: input.explanations.length,
    window_rows: input.windowRows,
    skipped_rows: input.skippedRows,
    max_rows: input.maxRows,
    selection: "smallest_sample_key",
    rows_fingerprint: input.rowsFingerprint,
    reference: reference ? { split: reference.split, rows: reference.rows } : null,
    features: input.features.map((name, i) => ({
      name,
      reference: reference && Object.hasOwn(reference.mean_abs, name) ? reference.mean_abs[name]! : null,
      current: current[i]!,
    })),
  };
}

/** The stored report's block when it was computed from exactly these rows, so it can be kept. */
export function reusableAttribution(stored: unknown, fingerprint: string, maxRows: number): ComputedAttribution | null {
  const parsed = computed.safeParse(stored);
  return parsed.success && parsed.data.rows_fingerprint === fingerprint && parsed.data.max_rows === maxRows ? parsed.data : null;
}
