/**
 * Reason codes for a scored batch (`?explain=3`, `?explain=all`): exact interventional SHAP
 * (worker/explain/) over the design rows the graph itself returned for the batch (its `design`
 * output, so serving and explaining read the same preprocessed numbers), against the version's
 * background in explainer.json. Only requests that ask pay: the explainer is loaded from R2 on the
 * first explain request for a version (sha256 checked against the manifest, parsed, compiled) and
 * kept per isolate, a few versions at most.
 *
 * Refusals: a version without an explainer (older manifests, `explain.background_rows: 0`) is 422
 * EXPLANATION_UNAVAILABLE naming the version; more rows than MAX_EXPLAIN_ROWS is 422 naming
 * `explain`; an explainer.json that is missing or does not match is 503 with the reason (retried
 * after LOAD_FAILURE_BACKOFF_MS), while predictions without `explain` keep serving.
 */
import { z } from "zod";
import type { Explainer, ExplanationSpace } from "../contract/explainer";
import { explainerSchema } from "../contract/explainer";
import type { Manifest } from "../contract/manifest";
import { sha256Hex } from "../contract/sha256";
import { ApiError } from "../errors";
import { explainRows } from "../explain/explain-rows";
import { topContributions } from "../explain/top-contributions";
import { LruCache } from "../inference/lru-cache";
import { artifactKey } from "../registry/r2-keys";

/** `explain`: how many features per row, by |contribution| (a whole number from 1), or "all". */
export const explainQuerySchema = z
  .union([z.literal("all"), z.string().regex(/^[1-9][0-9]{0,3}$/, { error: 'expected a whole number of features from 1, or "all"' }).transform(Number)], {
    error: 'expected a whole number of features from 1, or "all"',
  })
  .optional()
  .describe('Explain each row: the top k features by |contribution| (`explain=3`), or every feature (`explain=all`). Exact SHAP values; base_value + Σ contributions = the probability (forests) or its log-odds (boosting, logistic regression).');

export type ExplainRequest = { top: number | "all" };

/** Reads `?explain=` (undefined when absent); 422 naming `explain` when it is neither a count nor "all". */
export function parseExplainQuery(value: string | undefined): ExplainRequest | undefined {
  const result = explainQuerySchema.safeParse(value);
  if (!result.success) {
    throw new ApiError("VALIDATION_FAILED", `explain: ${result.error.issues[0]?.message ?? "invalid"}`, {
      issues: [{ field: "explain", message: result.error.issues[0]?.message ?? "invalid", code: "invalid_value" }],
    });
  }
  return result.data === undefined ? undefined : { top: result.data };
}

export interface ContributionEntry {
  feature: string;
  /** The row's value for the feature as the client sent it (null when missing). */
  value: unknown;
  contribution: number;
}

export interface RowExplanation {
  space: ExplanationSpace;
  base_value: number;
  /** Sorted by |contribution|, largest first; the top k asked for, or all. */
  contributions: ContributionEntry[];
}

/** The manifest's explainer block, or 422 EXPLANATION_UNAVAILABLE naming the version. */
export function explainerBlock(manifest: Manifest, version: number): NonNullable<Manifest["explainer"]> {
  if (manifest.explainer) return manifest.explainer;
  throw new ApiError(
    "EXPLANATION_UNAVAILABLE",
    `model ${manifest.name} version ${version} has no explainer: it was trained without one (an older trainer, or explain.background_rows: 0), so it cannot explain its predictions`,
    { model: manifest.name, version },
  );
}

/** At most MAX_EXPLAIN_ROWS rows are explained per request: 422 naming `explain` beyond. */
export function assertExplainBatch(rows: number, maxExplainRows: number): void {
  if (rows <= maxExplainRows) return;
  throw new ApiError("VALIDATION_FAILED", `explaining ${rows} rows exceeds the maximum of ${maxExplainRows} per request (MAX_EXPLAIN_ROWS)`, {
    issues: [{ field: "explain", message: `at most ${maxExplainRows} rows per request when explaining`, code: "too_big" }],
    max_rows: maxExplainRows,
  });
}

interface Loaded {
  loading: Promise<Explainer>;
  failure: { reason: string; until: number } | null;
}

/** Explainers kept per isolate: each holds its background and trees (a default forest's is ~1 MB of JSON). */
const MAX_CACHED_EXPLAINERS = 4;
const explainers = new LruCache<string, Loaded>(MAX_CACHED_EXPLAINERS);

/**
 * The version's parsed explainer, loaded once per isolate. A load that fails is remembered for
 * `backoffMs` (503 with its reason at once), then tried again.
 */
export async function loadExplainer(
  models: R2Bucket,
  version: { name: string; version: number; manifest: Manifest },
  options: { backoffMs: number; now?: () => number },
): Promise<Explainer> {
  const block = explainerBlock(version.manifest, version.version);
  const now = options.now ?? Date.now;
  const key = `${version.name}@${version.version}#${block.sha256}`;
  let entry = explainers.get(key);
  if (entry?.failure) {
    if (entry.failure.until > now()) throw unavailable(version, entry.failure.reason);
    explainers.delete(key);
    entry = undefined;
  }
  if (!entry) {
    const created: Loaded = { loading: fetchExplainer(models, version, block), failure: null };
    created.loading.catch((error: unknown) => {
      created.failure = { reason: error instanceof Error ? error.message : String(error), until: now() + options.backoffMs };
    });
    explainers.set(key, created);
    entry = created;
  }
  try {
    return await entry.loading;
  } catch (error) {
    throw unavailable(version, error instanceof Error ? error.message : String(error));
  }
}

function unavailable(version: { name: string; version: number }, reason: string): ApiError {
  return new ApiError("MODEL_UNAVAILABLE", `model ${version.name} version ${version.version} cannot explain: ${reason}`, { model: version.name, version: version.version, reason });
}

async function fetchExplainer(models: R2Bucket, version: { name: string; version: number }, block: NonNullable<Manifest["explainer"]>): Promise<Explainer> {
  const key = artifactKey(version.name, version.version, "explainer.json");
  const object = await models.get(key);
  if (!object) throw new Error(`explainer.json is missing from storage (${key})`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  const actual = await sha256Hex(bytes);
  if (actual !== block.sha256) throw new Error(`explainer.json checksum mismatch: sha256 ${actual}, the manifest expects ${block.sha256}`);
  const parsed = explainerSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw new Error(`explainer.json does not parse: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * Each row's explanation from the graph's design output (row-major, N × width), with the values the
 * client sent, sorted by |contribution| and cut to the top k.
 */
export function explainBatch(explainer: Explainer, design: Float32Array, rows: readonly unknown[], request: ExplainRequest): RowExplanation[] {
  const explanations = explainRows(explainer, design);
  const names = explainer.features.map((f) => f.name);
  const k = request.top === "all" ? undefined : request.top;
  return explanations.map((e, i) => {
    const sent = (typeof rows[i] === "object" && rows[i] !== null ? rows[i] : {}) as Record<string, unknown>;
    return {
      space: explainer.space,
      base_value: e.base_value,
      contributions: topContributions(names, e, k).map(({ feature, contribution }) => ({ feature, value: Object.hasOwn(sent, feature) ? (sent[feature] ?? null) : null, contribution })),
    };
  });
}
