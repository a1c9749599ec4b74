/**
 * The one prediction path every protocol goes through: resolve the version, validate the rows
 * against its manifest, run the graph once for the whole batch, apply threshold and tiers.
 */
import type { FeatureRow, Manifest } from "../contract/manifest";
import type { Decision } from "../contract/decision";
import { ApiError, type FieldIssue } from "../errors";
import { assertServable, compileVersion, runWithSession } from "../inference/model-cache";
import type { VersionRef } from "../registry/version-ref";
import type { Services } from "../services";
import { resolveVersionCached } from "../registry/resolve-cache";
import { buildFeeds } from "../contract/feature-feeds";
import { assertExplainBatch, explainBatch, explainerBlock, type ExplainRequest, loadExplainer, type RowExplanation } from "./explanations";

/** Names a failing field in the caller's own terms, e.g. `instances[3].tenure`. */
export type FieldPath = (row: number, field: string | undefined) => string;

export interface PredictOptions {
  path: FieldPath;
  /**
   * The row cap; MAX_BATCH_ROWS by default. The queue consumer scoring a shadow job passes the
   * job's own size: its rows passed the request's cap when the request was answered, under the
   * settings of the isolate that answered it.
   */
  maxRows?: number;
  /** `?explain`: each row's reason codes (scoring/explanations.ts). Absent: nothing is explained and nothing extra runs. */
  explain?: ExplainRequest;
}

/** Probability for display, prediction and tier, by the one rule in contract/decision.ts. */
export type RowPrediction = Decision;

export interface PredictResult {
  name: string;
  version: number;
  manifest: Manifest;
  predictions: RowPrediction[];
  /** Raw [N,2] graph output, for protocols that return tensors. */
  probabilities: Float32Array;
  unknownCategories: Record<string, number>;
  /** One per row when the request asked to explain. */
  explanations?: RowExplanation[];
}

const MAX_REPORTED_ISSUES = 100;

/**
 * Refuses a batch over MAX_BATCH_ROWS (422, naming the limit). Protocols that assemble rows from
 * another shape (OIP tensors, MLflow's dataframe_split and column inputs) call it with the count
 * they read off the body before building a single row, so an oversized body costs its parse and not
 * an object per row; predictRows calls it again for every protocol.
 */
export function assertBatchSize(rows: number, maxBatchRows: number, field = "instances"): void {
  if (rows <= maxBatchRows) return;
  throw new ApiError("VALIDATION_FAILED", `batch of ${rows} rows exceeds the maximum of ${maxBatchRows}`, {
    issues: [{ field, message: `at most ${maxBatchRows} rows per request`, code: "too_big" }],
    max_rows: maxBatchRows,
  });
}

/**
 * `pinned`: the version is in front of traffic, so its session is kept in the pinned pool, which
 * requests for other versions cannot evict (inference/model-cache.ts). Unset, a version reached
 * through an alias is pinned and one named by number is not; the canary and shadow, which are named
 * by number but chosen by the operator's traffic policy, pass true.
 */
export async function predictRows(
  services: Pick<Services, "db" | "models" | "settings">,
  target: { name: string; ref: VersionRef; pinned?: boolean },
  rows: readonly unknown[],
  options: PredictOptions,
): Promise<PredictResult> {
  if (rows.length === 0) throw new ApiError("VALIDATION_FAILED", "no rows to score", { issues: [{ field: options.path(0, undefined), message: "at least one row is required" }] });
  const { settings } = services;
  assertBatchSize(rows.length, options.maxRows ?? settings.maxBatchRows);
  const { row } = await resolveVersionCached(services.db, target.name, target.ref, settings.resolveTtlMs);
  assertServable(row);
  const compiled = compileVersion(row);
  const valid = validateRows(compiled.rowSchema, rows, options.path);
  const { feeds, unknownCategories } = buildFeeds(compiled.manifest.features, valid);
  const output = compiled.manifest.onnx.output;
  const sessionOptions = { backoffMs: settings.backoffMs, maxCachedSessions: settings.maxCachedSessions, pinned: target.pinned ?? !("version" in target.ref) };
  if (options.explain) {
    const block = explainerBlock(compiled.manifest, row.version);
    assertExplainBatch(valid.length, settings.maxExplainRows);
    const explainer = loadExplainer(services.models, compiled, { backoffMs: settings.backoffMs });
    // Awaited after inference; a failed load must not count as unhandled meanwhile.
    explainer.catch(() => {});
    const [probabilities, design] = await runWithSession(services.models, row, sessionOptions, (session) => session.runOutputs(feeds, valid.length, [output, block.design_output]));
    const result = decided(compiled, row, probabilities!, valid.length, options.path, unknownCategories);
    return { ...result, explanations: explainBatch(await explainer, design!, rows, options.explain) };
  }
  const probabilities = await runWithSession(services.models, row, sessionOptions, (session) => session.run(feeds, valid.length, output));
  return decided(compiled, row, probabilities, valid.length, options.path, unknownCategories);
}

function decided(
  compiled: ReturnType<typeof compileVersion>,
  row: { modelName: string; version: number },
  probabilities: Float32Array,
  rows: number,
  path: FieldPath,
  unknownCategories: Record<string, number>,
): PredictResult {
  if (probabilities.length !== rows * 2) {
    throw new Error(`model ${row.modelName} version ${row.version}: output ${compiled.manifest.onnx.output} has ${probabilities.length} values for ${rows} rows, expected [N,2]`);
  }
  assertFinite(compiled, probabilities, path);
  const predictions = new Array<RowPrediction>(rows);
  for (let i = 0; i < rows; i++) predictions[i] = compiled.decide(probabilities[i * 2 + 1]!);
  return { name: row.modelName, version: row.version, manifest: compiled.manifest, predictions, probabilities, unknownCategories };
}

/**
 * NaN or Infinity from the graph for rows that passed validation is a model defect: never a 200
 * with `null` in it. Answered 500 with its own code, and logged by the app's onError.
 */
function assertFinite(compiled: { name: string; version: number }, probabilities: Float32Array, path: FieldPath): void {
  const rows: number[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    if (!Number.isFinite(probabilities[i]!) && rows[rows.length - 1] !== i >> 1) rows.push(i >> 1);
  }
  if (rows.length === 0) return;
  const named = rows.slice(0, 10).map((i) => path(i, undefined)).join(", ") + (rows.length > 10 ? ", …" : "");
  throw new ApiError(
    "NON_FINITE_OUTPUT",
    `model ${compiled.name} version ${compiled.version} produced a non-finite probability for ${rows.length} of ${probabilities.length / 2} rows (${named})`,
    { model: compiled.name, version: compiled.version, rows: rows.slice(0, MAX_REPORTED_ISSUES) },
  );
}

function validateRows(
  schema: ReturnType<typeof compileVersion>["rowSchema"],
  rows: readonly unknown[],
  path: FieldPath,
): FeatureRow[] {
  const valid: FeatureRow[] = new Array(rows.length);
  const issues: FieldIssue[] = [];
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const result = schema.safeParse(rows[i]);
    if (result.success) {
      valid[i] = result.data as FeatureRow;
      continue;
    }
    for (const issue of result.error.issues) {
      total++;
      if (issues.length < MAX_REPORTED_ISSUES) {
        const field = issue.path.length ? issue.path.map(String).join(".") : undefined;
        issues.push({ field: path(i, field), message: issue.message, code: issue.code });
      }
    }
  }
  if (total > 0) {
    const fields = [...new Set(issues.map((i) => i.field))];
    const named = fields.slice(0, 10).join(", ") + (fields.length > 10 ? ", …" : "");
    throw new ApiError("VALIDATION_FAILED", `${total} invalid field${total === 1 ? "" : "s"}: ${named}`, {
      issues,
      ...(total > issues.length ? { truncated: total - issues.length } : {}),
    });
  }
  return valid;
}
