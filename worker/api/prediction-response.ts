/** Response shaping shared by every protocol that answers in the per-row prediction contract. */
import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import type { RowExplanation } from "../scoring/explanations";
import type { PredictResult, RowPrediction } from "../scoring/predict-rows";

/** The contract's field names come from the manifest's output label: `${label}_probability`, `${label}_prediction`. */
export function labelled(label: string, p: RowPrediction, token?: string, explanation?: RowExplanation) {
  const row: Record<string, unknown> = { [`${label}_probability`]: p.probability, [`${label}_prediction`]: p.prediction, risk_tier: p.risk_tier };
  if (token !== undefined) row.prediction_token = token;
  if (explanation !== undefined) row.explanation = explanation;
  return row;
}

/**
 * Model identity, the traffic arm of a routed request (primary or canary; none for a request that
 * named its version or alias), and which open features carried unseen categories (feature=rows).
 */
export function setPredictionHeaders(c: Context<AppEnv>, result: PredictResult, arm: "primary" | "canary" | null): void {
  c.header("x-model-name", result.name);
  c.header("x-model-version", String(result.version));
  if (arm) c.header("x-model-arm", arm);
  const unknown = Object.entries(result.unknownCategories);
  if (unknown.length) c.header("x-unknown-categories", unknown.map(([f, n]) => `${f}=${n}`).join(","));
}
