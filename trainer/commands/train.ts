/**
 * `train`: config.yaml -> artifacts/<run-id>/ (model.onnx, manifest.json, model-card.md, plots,
 * reference.json, and config.json: the config it was trained with, which `gate` reads). Progress
 * goes to stderr; the summary (or --json) to stdout.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { defineCommand } from "citty";
import { SingleBar } from "cli-progress";
import { loadConfig } from "../config";
import { runTraining, type TrainResult } from "../pipeline/train-run";
import { UsageError } from "../user-errors";

export const trainCommand = defineCommand({
  meta: { name: "train", description: "Train, evaluate and export a model from config.yaml" },
  args: {
    config: { type: "string", description: "Config file", default: "config.yaml" },
    "artifacts-dir": { type: "string", description: "Where run directories go", default: "artifacts" },
    json: { type: "boolean", description: "Print a machine-readable summary instead of tables", default: false },
    "enforce-gate": { type: "boolean", description: "Exit with status 3 when the evaluation gate fails", default: false },
  },
  async run({ args }) {
    const { config, text } = loadConfig(args.config);
    // Paths in a config are relative to the config file, wherever the command runs from.
    const baseDir = dirname(resolve(args.config));
    const dataPath = resolve(baseDir, config.data.train_path);
    if (!existsSync(dataPath)) {
      throw new UsageError(`${dataPath} does not exist. Generate the synthetic dataset with \`npm run data\`, or point data.train_path in ${args.config} at your CSV.`);
    }
    const progress = new Progress(!args.json && process.stderr.isTTY === true);
    const result = await runTraining(config, {
      configText: text,
      configPath: args.config,
      baseDir,
      artifactsDir: args["artifacts-dir"],
      onPhase: (phase) => progress.phase(phase),
      onLoadProgress: (p) => progress.update("bytes read", p.bytes, p.totalBytes),
      onFitProgress: (done, total, phase) => progress.update(phase, done, total),
    });
    progress.stop();
    if (args.json) console.log(JSON.stringify(summaryJson(result), null, 2));
    else printSummary(result);
    if (args["enforce-gate"] && !result.gate.passed) process.exitCode = 3;
  },
});

class Progress {
  private bar: SingleBar | null = null;
  private label = "";
  constructor(private readonly tty: boolean) {}

  phase(name: string): void {
    this.stop();
    this.label = name;
    process.stderr.write(`• ${name}\n`);
  }

  update(label: string, value: number, total?: number): void {
    if (!this.tty) return;
    if (!this.bar || this.label !== label) {
      this.stop();
      this.label = label;
      this.bar = new SingleBar({
        format: total ? `  ${label} [{bar}] {value}/{total} {duration_formatted}` : `  ${label} {value}`,
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
      });
      this.bar.start(total ?? 0, 0);
    }
    if (total !== undefined) this.bar.setTotal(total);
    this.bar.update(value);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function summaryJson(r: TrainResult) {
  const m = r.manifest;
  return {
    run_id: r.runId,
    dir: r.dir,
    model: { name: m.name, family: m.model.family, onnx_sha256: m.onnx.sha256, onnx_bytes: m.onnx.size },
    data: { rows: m.data.rows, train_rows: m.data.train_rows, validation_rows: m.data.validation_rows, sha256: m.data.sha256 },
    metrics: {
      roc_auc: r.evaluation.roc_auc,
      average_precision: r.evaluation.average_precision,
      log_loss: r.evaluation.log_loss,
      brier: r.evaluation.brier,
      ...r.evaluation.at_threshold,
    },
    gate: r.gate,
    parity: { rows: r.parity.rows, max_abs_diff: r.parity.maxAbsDiff, tolerance: r.parity.tolerance },
    seconds: r.seconds,
    warnings: (m.data.issues as { warnings?: string[] } | undefined)?.warnings ?? [],
  };
}

function printSummary(r: TrainResult): void {
  const s = summaryJson(r);
  const f = (n: number) => n.toFixed(4);
  for (const w of s.warnings) console.log(`! ${w}`);
  console.table({
    model: { value: `${s.model.name} (${s.model.family})` },
    data: { value: `${s.data.rows} rows: ${s.data.train_rows} train / ${s.data.validation_rows} validation` },
    "ROC AUC": { value: f(s.metrics.roc_auc) },
    "PR AUC (AP)": { value: f(s.metrics.average_precision) },
    "log loss": { value: f(s.metrics.log_loss) },
    Brier: { value: f(s.metrics.brier) },
    [`precision / recall / F1 @ ${s.metrics.threshold}`]: {
      value: `${f(s.metrics.precision)} / ${f(s.metrics.recall)} / ${f(s.metrics.f1)}`,
    },
    "ONNX parity": { value: `max |Δp| ${s.parity.max_abs_diff.toExponential(2)} over ${s.parity.rows} rows (≤ ${s.parity.tolerance})` },
    gate: { value: s.gate.checks.length ? s.gate.checks.map((c) => `${c.metric} ${c.bound} ${c.limit}: ${c.passed ? "pass" : "FAIL"}`).join("; ") : "none configured" },
    seconds: { value: Object.entries(s.seconds).map(([k, v]) => `${k} ${v}`).join(", ") },
  });
  console.log(`artifacts: ${r.dir}`);
}
