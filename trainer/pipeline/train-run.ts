/**
 * One training run, end to end: config -> data -> preprocessing -> model -> evaluation -> ONNX ->
 * parity -> explainer -> manifest, model card, drift reference, explainer.json and the run's own
 * config (config.json) in artifacts/<run-id>/. Plain function: the CLI adds progress bars and output
 * formats around it, tests call it directly.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config";
import type { LoadProgress } from "../data/load-csv";
import { sha256Text } from "../data/fingerprint";
import { checkedDataSource, trainingDataPath } from "../data/training-data-source";
import { evaluate, type Evaluation, manifestMetrics } from "../metrics/evaluate";
import { fitModel } from "../models/fit-model";
import { predictProba } from "../models/predict";
import { exportOnnx, onnxManifestBlock } from "../onnx/export";
import { buildRunExplainer, drawBackground, IMPORTANCE_ROWS, type RunExplainer } from "../explain/run-explainer";
import { assertParity, type ParityReport } from "../onnx/parity";
import { Rng } from "../random";
import { buildDriftReference } from "../report/drift-reference";
import type { DriftReference } from "../../worker/contract/drift-reference";
import { type ModelCard, renderModelCard } from "../report/model-card";
import { type FeatureRow, type Manifest, MANIFEST_SCHEMA_VERSION, manifestSchema } from "../../worker/contract/manifest";
import { crossValidate } from "./cross-validate";
import { evaluateGate, type GateResult } from "./gate";
import { prepareData, rawRows, selectRows } from "./prepare";
import { RUN_CONFIG_FILE, type RunConfigRecord, runConfigRecord } from "./run-config";
import packageJson from "../../package.json" with { type: "json" };

export const TRAINER_VERSION = packageJson.version;
export const EXPLAINER_FILE = "explainer.json";

export type TrainPhase = "load" | "fit" | "cv" | "evaluate" | "export" | "parity" | "explain" | "write";

export interface TrainOptions {
  /** The config file's text, hashed into the manifest and kept in the run's config.json. */
  configText: string;
  /** The file the text was read from, recorded in config.json. */
  configPath?: string;
  /** Directory data.train_path is relative to (the config file's); defaults to the working directory. */
  baseDir?: string;
  artifactsDir?: string;
  /** Fixed for reproducible tests; defaults to now. */
  now?: Date;
  onPhase?: (phase: TrainPhase) => void;
  onLoadProgress?: (progress: LoadProgress) => void;
  onFitProgress?: (done: number, total: number, phase: string) => void;
}

export interface TrainResult {
  runId: string;
  dir: string;
  manifest: Manifest;
  evaluation: Evaluation;
  gate: GateResult;
  parity: ParityReport;
  seconds: Record<string, number>;
}

export async function runTraining(config: Config, options: TrainOptions): Promise<TrainResult> {
  const seconds: Record<string, number> = {};
  const timed = async <T>(phase: TrainPhase, fn: () => T | Promise<T>): Promise<T> => {
    options.onPhase?.(phase);
    const start = performance.now();
    const result = await fn();
    seconds[phase] = Math.round(performance.now() - start) / 1000;
    return result;
  };
  const rng = new Rng(config.training.random_state);
  const data = await timed("load", () => prepareData(config, { baseDir: options.baseDir, onProgress: options.onLoadProgress }));
  const dataSource = checkedDataSource(trainingDataPath(config.data.train_path, options.baseDir), data.fingerprint.sha256);
  const riskTiers = Object.entries(config.output.risk_tiers)
    .map(([name, min]) => ({ name, min }))
    .sort((a, b) => b.min - a.min);
  const { threshold } = config.output;

  const { model, info } = await timed("fit", () =>
    fitModel(config.model, data.train, { rng: rng.fork("model"), onProgress: options.onFitProgress }),
  );
  const cv =
    config.training.cv_folds >= 2
      ? await timed("cv", () => crossValidate(config.model, data.train, { folds: config.training.cv_folds, rng, threshold, riskTiers }))
      : undefined;

  const pValidation = predictProba(model, data.validation.X);
  const evaluation = await timed("evaluate", () => evaluate(data.validation.y, pValidation, { threshold, riskTiers }));
  const gate = evaluateGate(config.gate, evaluation);

  const name = config.mlflow.model_name;
  const onnx = await timed("export", () =>
    exportOnnx({
      modelName: name,
      features: data.features,
      preprocessing: data.preprocessing,
      imputeCategories: data.imputeCategories,
      model,
      producerVersion: TRAINER_VERSION,
    }),
  );
  const validationRows = rawRows(data.validation.raw);
  const parity = await timed("parity", () =>
    assertParity({ onnx, features: data.features, rows: validationRows, expected: pValidation, tolerance: 1e-5 }),
  );

  const goldenRows = validationRows.slice(0, config.training.golden_rows);
  const explain =
    config.explain.background_rows > 0
      ? await timed("explain", () =>
          buildRunExplainer({
            onnx,
            features: data.features,
            preprocessing: data.preprocessing,
            model,
            train: data.train.raw,
            backgroundRows: config.explain.background_rows,
            rng: rng.fork("explain-background"),
            golden: goldenRows,
            // Drawn with the seed, so the card's importance is the same on every run of the config.
            importanceRows: rawRows(
              selectRows(data.validation.raw, drawBackground(data.validation.raw.rowNumbers.length, IMPORTANCE_ROWS, rng.fork("explain-importance"))),
            ),
          }),
        )
      : undefined;

  const now = options.now ?? new Date();
  const configSha = sha256Text(options.configText);
  const runId = runIdOf(now, configSha, data.fingerprint.sha256);
  const { type: family, ...params } = config.model;
  const manifest = manifestSchema.parse({
    schema_version: MANIFEST_SCHEMA_VERSION,
    name,
    description: config.mlflow.description,
    task: "binary_classification",
    features: data.features,
    output: { label: config.output.label, target_column: config.data.target_column, classes: data.classes, threshold, risk_tiers: riskTiers },
    onnx: onnxManifestBlock(onnx),
    model: { family, params: { ...params, seed: config.training.random_state } },
    preprocessing: data.preprocessing,
    metrics: {
      ...manifestMetrics(evaluation),
      ...(cv ? { cross_validation: cv } : {}),
      fit: info,
      parity: { rows: parity.rows, max_abs_diff: parity.maxAbsDiff, tolerance: parity.tolerance },
      gate,
    },
    data: { ...data.fingerprint, issues: { ...data.report }, ...(dataSource && { source: dataSource }) },
    source: runSource({ configSha, runId, now, seed: config.training.random_state, baseDir: options.baseDir }),
    monitoring: config.monitoring,
    ...(explain && { explainer: explain.block }),
    golden: goldenBlock(goldenRows, pValidation, explain),
  } satisfies Manifest);

  const dir = join(options.artifactsDir ?? "artifacts", runId);
  await timed("write", async () => {
    const card = renderModelCard({
      ...cardBasics(config, manifest, runId, now),
      evaluation,
      crossValidation: cv?.summary,
      data: { ...data.fingerprint, report: data.report, synthetic: !dataSource && /churn_train\.csv$/.test(config.data.train_path) },
      features: data.features,
      ...(manifest.explainer?.importance && {
        importance: {
          space: manifest.explainer.space,
          backgroundRows: manifest.explainer.background_rows,
          validationRows: data.validation.raw.rowNumbers.length,
          rows: manifest.explainer.importance.rows,
          meanAbs: manifest.explainer.importance.mean_abs,
        },
      }),
    });
    const reference = buildDriftReference({
      features: data.features,
      rows: validationRows,
      scores: pValidation,
      sampleSize: config.training.reference_sample_size,
      rng: rng.fork("drift-reference"),
    });
    await writeRunFiles({
      artifactsDir: options.artifactsDir ?? "artifacts",
      runId,
      onnx,
      manifest,
      card,
      reference,
      explainer: explain?.bytes,
      runConfig: runConfigRecord({ config, text: options.configText, sha256: configSha, configPath: options.configPath, baseDir: options.baseDir }),
    });
  });
  return { runId, dir, manifest, evaluation, gate, parity, seconds };
}

/** What every run's model card says about the run itself, from its config and manifest (train and import alike). */
export function cardBasics(config: Config, manifest: Manifest, runId: string, now: Date) {
  return {
    name: manifest.name,
    description: config.mlflow.description,
    runId,
    output: manifest.output,
    model: manifest.model,
    gate: config.gate,
    createdAt: now.toISOString(),
    trainerVersion: TRAINER_VERSION,
    gitCommit: manifest.source.git_commit,
    seed: config.training.random_state,
  };
}

export function runSource(input: { configSha: string; runId: string; now: Date; seed: number; baseDir?: string }): Manifest["source"] {
  return {
    config_sha256: input.configSha,
    git_commit: gitCommit(input.baseDir),
    trainer_version: TRAINER_VERSION,
    run_id: input.runId,
    created_at: input.now.toISOString(),
    seed: input.seed,
  };
}

/** The manifest's golden rows: each with its probability and, with an explainer, its explanation. */
export function goldenBlock(rows: readonly FeatureRow[], probabilities: ArrayLike<number>, explain?: RunExplainer): Manifest["golden"] {
  return rows.map((input, i) => ({ input, probability: probabilities[i]!, ...(explain && { explanation: explain.golden[i]! }) }));
}

/** `<UTC yyyymmdd-hhmmss>-<8 hex of config and data>`: sorts by time, differs by what went in. */
export function runIdOf(now: Date, configSha: string, dataSha: string): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)}-${sha256Text(`${configSha}:${dataSha}`).slice(0, 8)}`;
}

export interface RunFiles {
  artifactsDir: string;
  runId: string;
  onnx: Uint8Array;
  manifest: Manifest;
  card: ModelCard;
  reference: DriftReference;
  explainer?: Uint8Array;
  runConfig: RunConfigRecord;
}

/** artifacts/<run-id>/ with every file a run has, and artifacts/LATEST naming it. */
export async function writeRunFiles(run: RunFiles): Promise<void> {
  const dir = join(run.artifactsDir, run.runId);
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, "model.onnx"), run.onnx),
    writeFile(join(dir, "manifest.json"), `${JSON.stringify(run.manifest, null, 2)}\n`),
    writeFile(join(dir, "model-card.md"), run.card.markdown),
    writeFile(join(dir, "reference.json"), `${JSON.stringify(run.reference)}\n`),
    ...(run.explainer ? [writeFile(join(dir, EXPLAINER_FILE), run.explainer)] : []),
    writeFile(join(dir, RUN_CONFIG_FILE), `${JSON.stringify(run.runConfig, null, 2)}\n`),
    ...Object.entries(run.card.files).map(([file, text]) => writeFile(join(dir, file), text)),
  ]);
  await writeFile(join(run.artifactsDir, "LATEST"), `${run.runId}\n`);
}

export function gitCommit(cwd?: string): string | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return null;
  }
}
