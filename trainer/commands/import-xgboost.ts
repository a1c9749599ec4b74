/**
 * `import:xgboost <model.json> --config config.yaml [--data <csv>] [--mapping <file>] [--expected <json>]`:
 * an XGBoost booster saved with Booster.save_model -> artifacts/<run-id>/, like `train` writes.
 * --data replaces the config's data.train_path, and the run's config.json records the config with
 * that path, so `gate` rebuilds the same validation split. Exit 2 on anything the user must fix
 * (unsupported booster, unmapped feature, parity failure: nothing is written then).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { defineCommand } from "citty";
import { parse as parseYaml, parseDocument } from "yaml";
import { loadConfig, parseConfig } from "../config";
import { importXgboost, type ImportResult } from "../pipeline/import-run";
import { UsageError } from "../user-errors";
import { type FeatureMapping, mappingSchema } from "../xgboost/map-features";

export const importXgboostCommand = defineCommand({
  meta: { name: "import-xgboost", description: "Import an XGBoost JSON model (Booster.save_model) as a run directory: ONNX with our preprocessing, manifest, card, reference, explainer" },
  args: {
    model: { type: "positional", description: "model.json written by Booster.save_model", required: true },
    config: { type: "string", description: "Config file: features, target, output, gate, monitoring", default: "config.yaml" },
    data: { type: "string", description: "CSV with the features and the target (default: the config's data.train_path)" },
    mapping: { type: "string", description: "YAML/JSON: booster column -> numeric feature, or {feature, category} for a one-hot column" },
    expected: { type: "string", description: "XGBoost's probabilities for the data rows ({\"probabilities\": [...]}); without it XGBoost runs here via Python" },
    "artifacts-dir": { type: "string", description: "Where run directories go", default: "artifacts" },
    json: { type: "boolean", description: "Print a machine-readable summary", default: false },
  },
  async run({ args }) {
    if (!existsSync(args.config)) throw new UsageError(`config ${args.config} not found`);
    const baseDir = dirname(resolve(args.config));
    const { config, text } = args.data === undefined ? loadConfig(args.config) : withDataPath(args.config, resolve(args.data));
    const dataPath = resolve(baseDir, config.data.train_path);
    if (!existsSync(dataPath)) throw new UsageError(`${dataPath} does not exist: pass --data <csv> with the features and ${config.data.target_column}`);
    const result = await importXgboost(config, {
      modelPath: args.model,
      configText: text,
      configPath: args.config,
      baseDir,
      ...(args.mapping !== undefined && { mapping: readMapping(args.mapping), mappingName: args.mapping }),
      expectedPath: args.expected,
      artifactsDir: args["artifacts-dir"],
      onPhase: args.json ? undefined : (phase) => process.stderr.write(`• ${phase}\n`),
    });
    const summary = summaryJson(result);
    if (args.json) console.log(JSON.stringify(summary, null, 2));
    else printSummary(summary);
  },
});

/** The config with data.train_path set to `dataPath`, as text (comments kept) and parsed. */
function withDataPath(configPath: string, dataPath: string) {
  const doc = parseDocument(readFileSync(configPath, "utf8"));
  doc.setIn(["data", "train_path"], dataPath);
  const text = doc.toString();
  return { config: parseConfig(parseYaml(text), configPath), text };
}

function readMapping(path: string): FeatureMapping {
  let json: unknown;
  try {
    json = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--mapping ${path} cannot be read: ${(error as Error).message}`);
  }
  const parsed = mappingSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(`--mapping ${path}: expected booster column -> numeric feature name, or {feature, category} for a one-hot column (${parsed.error.issues[0]?.path.join(".") || "(root)"}: ${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

function summaryJson(r: ImportResult) {
  const m = r.manifest;
  return {
    run_id: r.runId,
    dir: r.dir,
    model: { name: m.name, imported_from: `xgboost ${r.booster.version}`, objective: r.booster.objective, trees: r.booster.trees, onnx_sha256: m.onnx.sha256, onnx_bytes: m.onnx.size },
    data: { rows: m.data.rows, train_rows: m.data.train_rows, validation_rows: m.data.validation_rows, sha256: m.data.sha256 },
    metrics: { roc_auc: r.evaluation.roc_auc, average_precision: r.evaluation.average_precision, log_loss: r.evaluation.log_loss, brier: r.evaluation.brier },
    gate: r.gate,
    parity: { rows: r.parity.rows, probes: r.parity.probes, max_abs_diff: r.parity.maxAbsDiff, tolerance: r.parity.tolerance, reference: r.parity.reference },
    explainer: m.explainer ? { background_rows: m.explainer.background_rows, bytes: m.explainer.size } : null,
  };
}

function printSummary(s: ReturnType<typeof summaryJson>): void {
  const f = (n: number) => n.toFixed(4);
  console.table({
    model: { value: `${s.model.name}: ${s.model.imported_from}, ${s.model.objective}, ${s.model.trees} trees` },
    data: { value: `${s.data.rows} rows: ${s.data.train_rows} train / ${s.data.validation_rows} validation` },
    "ROC AUC": { value: f(s.metrics.roc_auc) },
    "log loss": { value: f(s.metrics.log_loss) },
    parity: { value: `max |Δp| ${s.parity.max_abs_diff.toExponential(2)} over ${s.parity.rows} rows (${s.parity.probes} probes) vs ${s.parity.reference} (≤ ${s.parity.tolerance})` },
    gate: { value: s.gate.checks.length ? s.gate.checks.map((c) => `${c.metric} ${c.bound} ${c.limit}: ${c.passed ? "pass" : "FAIL"}`).join("; ") : "none configured" },
    explainer: { value: s.explainer ? `${s.explainer.background_rows} background rows, ${s.explainer.bytes} bytes` : "none (explain.background_rows 0)" },
  });
  console.log(`artifacts: ${s.dir}`);
}
