/** The evaluation gate from config: every configured bound, checked against the validation metrics. */
import type { Config } from "../config";
import type { EvaluationSummary } from "../metrics/evaluate";

export interface GateCheck {
  metric: "roc_auc" | "log_loss" | "brier";
  bound: "min" | "max";
  limit: number;
  value: number;
  passed: boolean;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
}

export function evaluateGate(gate: Config["gate"], metrics: Pick<EvaluationSummary, "roc_auc" | "log_loss" | "brier">): GateResult {
  const checks: GateCheck[] = [];
  const add = (metric: GateCheck["metric"], bound: GateCheck["bound"], limit: number | undefined) => {
    if (limit === undefined) return;
    const value = metrics[metric];
    checks.push({ metric, bound, limit, value, passed: bound === "min" ? value >= limit : value <= limit });
  };
  add("roc_auc", "min", gate.min_roc_auc);
  add("log_loss", "max", gate.max_log_loss);
  add("brier", "max", gate.max_brier);
  return { passed: checks.every((c) => c.passed), checks };
}
