/**
 * An XGBoost booster trained elsewhere -> a run directory like `train` writes (model.onnx,
 * manifest.json, model-card.md, reference.json, explainer.json, config.json), so publish, gate and
 * promote take it as any run. The data (config data.train_path, or --data) plays the training
 * file's part: its validation split gives the metrics and the gate, its training split the
 * explainer's background, its validation rows the drift reference and the golden rows.
 *
 * The graph feeds the trees the values XGBoost saw: numbers unscaled and not imputed (missing ones
 * take each split's learned default direction), categorical features one-hot (an unseen or missing
 * category is all zeros, as pandas get_dummies gives). Nothing is written unless ORT reproduces
 * XGBoost's own probabilities on every data row (and, when XGBoost runs here, on probe rows at each
 * split threshold, with missing values and unseen categories) within PARITY_TOLERANCE.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Config } from "../config";
import { sha256Text } from "../data/fingerprint";
import { buildRunExplainer } from "../explain/run-explainer";
import { evaluate, type Evaluation, manifestMetrics } from "../metrics/evaluate";
import { exportOnnx, onnxManifestBlock } from "../onnx/export";
import { checkParity, ParityError, type ParityReport } from "../onnx/parity";
import { Rng } from "../random";
import { buildDriftReference } from "../report/drift-reference";
import { renderModelCard } from "../report/model-card";
import { UsageError } from "../user-errors";
import { boosterModel } from "../xgboost/booster-trees";
import { type FeatureMapping, mapBoosterFeatures, type BoosterLayout } from "../xgboost/map-features";
import { probeRows } from "../xgboost/probe-rows";
import { type Booster, parseBooster } from "../xgboost/read-booster";
import { boosterMatrix, predictWithXgboost, readReference } from "../xgboost/xgboost-reference";
import { type FeatureRow, type FeatureSpec, type Manifest, MANIFEST_SCHEMA_VERSION, manifestSchema } from "../../worker/contract/manifest";
import { evaluateGate, type GateResult } from "./gate";
import { type PreparedData, prepareData, rawRows } from "./prepare";
import { runConfigRecord } from "./run-config";
import { cardBasics, goldenBlock, runIdOf, runSource, TRAINER_VERSION, writeRunFiles } from "./train-run";

export const PARITY_TOLERANCE = 1e-5;

export interface ImportOptions {
  modelPath: string;
  /** The config text as it will be kept (config.json) and hashed; data.train_path names the data. */
  configText: string;
  configPath?: string;
  baseDir?: string;
  mapping?: FeatureMapping;
  mappingName?: string;
  /** XGBoost's probabilities for the data rows in file order; without it XGBoost runs here (Python). */
  expectedPath?: string;
  artifactsDir?: string;
  now?: Date;
  onPhase?: (phase: string) => void;
}

export interface ImportResult {
  runId: string;
  dir: string;
  manifest: Manifest;
  evaluation: Evaluation;
  gate: GateResult;
  parity: ParityReport & { probes: number; reference: string };
  booster: { version: string; objective: string; trees: number };
}

export async function importXgboost(config: Config, options: ImportOptions): Promise<ImportResult> {
  const phase = options.onPhase ?? (() => {});
  phase("read booster");
  const modelBytes = await readFile(options.modelPath).catch((error: Error) => {
    throw new UsageError(`cannot read ${options.modelPath}: ${error.message}`);
  });
  const booster = parseBooster(modelBytes.toString("utf8"), options.modelPath);
  const configName = options.configPath ?? "the config";
  const layout = mapBoosterFeatures({
    boosterFeatures: booster.featureNames,
    numeric: config.features.numeric,
    categorical: config.features.categorical,
    mapping: options.mapping,
    configName,
    mappingName: options.mappingName,
  });
  phase("load");
  const data = await prepareData(config, { baseDir: options.baseDir });
  const preprocessing: Manifest["preprocessing"] = {
    missing: "tree_default",
    numeric: layout.numeric.map((name) => ({ name, impute: 0, mean: 0, scale: 1 })),
    categorical: layout.categorical.map(({ name, categories }) => ({ name, categories, handle_unknown: "ignore" as const })),
  };
  const features = boosterFeatureSpecs(data.features, layout, config);
  const model = boosterModel(booster, layout);
  phase("export");
  const onnx = exportOnnx({ modelName: config.mlflow.model_name, features, preprocessing, model, producerVersion: TRAINER_VERSION });

  phase("parity");
  const rows = rowsInFileOrder(data);
  const probes = options.expectedPath ? [] : probeRows(booster, layout, rows.rows);
  const reference = options.expectedPath
    ? await readReference(options.expectedPath)
    : await predictWithXgboost(options.modelPath, booster.featureNames, boosterMatrix(layout, [...rows.rows, ...probes]));
  if (options.expectedPath && reference.probabilities.length !== rows.rows.length)
    throw new UsageError(
      `--expected ${options.expectedPath} has ${reference.probabilities.length} probabilities, the data has ${rows.rows.length} rows after loading (${data.report.rows_read} read): one per data row in file order, with no rows dropped by a missing policy or duplicates: drop`,
    );
  const checked = [...rows.rows, ...probes];
  const parityReport = await checkParity({ onnx, features, rows: checked, expected: Float64Array.from(reference.probabilities), tolerance: PARITY_TOLERANCE });
  if (!parityReport.ok) throw new ParityError(parityReport, checked[parityReport.worstRow], "xgboost");
  const referenceName = options.expectedPath ? basename(options.expectedPath) : `xgboost ${reference.xgboost_version ?? booster.version}`;
  const parity = { ...parityReport, probes: probes.length, reference: referenceName };

  const pOf = new Map(Array.from(rows.rowNumbers, (r, i) => [r, reference.probabilities[i]!]));
  const pValidation = Float64Array.from(data.validation.raw.rowNumbers, (r) => pOf.get(r)!);
  const riskTiers = Object.entries(config.output.risk_tiers).map(([name, min]) => ({ name, min })).sort((a, b) => b.min - a.min);
  const { threshold } = config.output;
  phase("evaluate");
  const evaluation = evaluate(data.validation.y, pValidation, { threshold, riskTiers });
  const gate = evaluateGate(config.gate, evaluation);

  const rng = new Rng(config.training.random_state);
  const validationRows = rawRows(data.validation.raw);
  const goldenRows = validationRows.slice(0, config.training.golden_rows);
  phase("explain");
  const explain =
    config.explain.background_rows > 0
      ? await buildRunExplainer({ onnx, features, preprocessing, model, train: data.train.raw, backgroundRows: config.explain.background_rows, rng: rng.fork("explain-background"), golden: goldenRows })
      : undefined;

  const now = options.now ?? new Date();
  const configSha = sha256Text(options.configText);
  const runId = runIdOf(now, configSha, data.fingerprint.sha256);
  const name = config.mlflow.model_name;
  const provenance = `imported from XGBoost ${booster.version}, ${booster.objective}, ${booster.trees.length} trees`;
  const manifest = manifestSchema.parse({
    schema_version: MANIFEST_SCHEMA_VERSION,
    name,
    description: config.mlflow.description,
    task: "binary_classification",
    features,
    output: { label: config.output.label, target_column: config.data.target_column, classes: data.classes, threshold, risk_tiers: riskTiers },
    onnx: onnxManifestBlock(onnx),
    model: { family: "gradient_boosting", params: boosterParams(booster, modelBytes, config.training.random_state) },
    preprocessing,
    metrics: {
      ...manifestMetrics(evaluation),
      parity: { rows: parity.rows, probes: parity.probes, max_abs_diff: parity.maxAbsDiff, tolerance: parity.tolerance, reference: parity.reference },
      gate,
    },
    data: { ...data.fingerprint, issues: { ...data.report } },
    source: runSource({ configSha, runId, now, seed: config.training.random_state, baseDir: options.baseDir }),
    monitoring: config.monitoring,
    ...(explain && { explainer: explain.block }),
    golden: goldenBlock(goldenRows, pValidation, explain),
  } satisfies Manifest);

  phase("write");
  const card = renderModelCard({
    ...cardBasics(config, manifest, runId, now),
    provenance,
    evaluation,
    data: { ...data.fingerprint, report: data.report },
    features,
  });
  const driftReference = buildDriftReference({ features, rows: validationRows, scores: pValidation, sampleSize: config.training.reference_sample_size, rng: rng.fork("drift-reference") });
  const artifactsDir = options.artifactsDir ?? "artifacts";
  await writeRunFiles({
    artifactsDir,
    runId,
    onnx,
    manifest,
    card,
    reference: driftReference,
    explainer: explain?.bytes,
    runConfig: runConfigRecord({ config, text: options.configText, sha256: configSha, configPath: options.configPath, baseDir: options.baseDir }),
  });
  return { runId, dir: join(artifactsDir, runId), manifest, evaluation, gate, parity, booster: { version: booster.version, objective: booster.objective, trees: booster.trees.length } };
}

/** The config's features with each categorical one's categories those the booster has columns for. */
function boosterFeatureSpecs(fromData: readonly FeatureSpec[], layout: BoosterLayout, config: Config): FeatureSpec[] {
  const categories = new Map(layout.categorical.map((c) => [c.name, c.categories]));
  return fromData.map((spec) => {
    if (spec.kind !== "categorical") return spec;
    const boosterCategories = categories.get(spec.name)!;
    const declared = config.features.columns[spec.name]?.values;
    return { ...spec, categories: boosterCategories, ...(spec.closed && { allowed: declared ?? boosterCategories }) };
  });
}

function boosterParams(booster: Booster, modelBytes: Uint8Array, seed: number): Record<string, unknown> {
  const depth = Math.max(...booster.trees.map(treeDepth));
  return {
    imported_from: "xgboost",
    xgboost_version: booster.version,
    objective: booster.objective,
    n_trees: booster.trees.length,
    max_depth: depth,
    base_score: booster.baseScore,
    ...(booster.bestIteration !== null && { best_iteration: booster.bestIteration }),
    booster_sha256: createHash("sha256").update(modelBytes).digest("hex"),
    seed,
  };
}

function treeDepth(tree: Booster["trees"][number]): number {
  const depth = (node: number): number => (tree.left[node] === -1 ? 0 : 1 + Math.max(depth(tree.left[node]!), depth(tree.right[node]!)));
  return depth(0);
}

/** Every kept data row (both splits) in file order, with its file row number. */
function rowsInFileOrder(data: PreparedData): { rows: FeatureRow[]; rowNumbers: Int32Array } {
  const entries = [data.train.raw, data.validation.raw].flatMap((split) => {
    const rows = rawRows(split);
    return Array.from(split.rowNumbers, (r, i) => [r, rows[i]!] as const);
  });
  entries.sort((a, b) => a[0] - b[0]);
  return { rows: entries.map((e) => e[1]), rowNumbers: Int32Array.from(entries, (e) => e[0]) };
}
