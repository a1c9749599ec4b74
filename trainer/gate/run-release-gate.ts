/**
 * The release gate run: the candidate (a run directory) and the version an alias (production) points
 * at, both scored by their own ONNX graphs in ORT on the same rows, the candidate's validation split.
 * The split is rebuilt from the config and data that trained the run (by default the config kept in
 * the run directory, pipeline/run-config.ts); both are checked against the manifest first, since a
 * different config or file would give different rows and a meaningless AUC.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../user-errors";
import type { Config } from "../config";
import { sha256File } from "../data/fingerprint";
import { objectUrl, readDataSource, trainingDataPath } from "../data/training-data-source";
import { countPositives } from "../metrics/inputs";
import { rocAuc } from "../metrics/roc-auc";
import { createSession, runRows } from "../onnx/node-runtime";
import { prepareData, rawRows } from "../pipeline/prepare";
import { RUN_CONFIG_FILE } from "../pipeline/run-config";
import type { Registry } from "../registry-client";
import { type FeatureRow, type Manifest, manifestSchema, type TrainingDataSource } from "../../worker/contract/manifest";
import { decideReleaseGate, type ReleaseGateCheck } from "./release-gate";

export const GATE_EVIDENCE_FILE = "gate.json";

export interface GateEvidence {
  passed: boolean;
  model: string;
  alias: string;
  candidate: { run_id: string; onnx_sha256: string; roc_auc: number };
  /** null: no version had the alias yet (a first model), judged on the minimum alone. */
  production: { version: number; sha256: string; roc_auc: number } | null;
  rows: number;
  positives: number;
  data: { sha256: string; rows: number; train_rows: number; validation_rows: number; source?: TrainingDataSource };
  git_commit: string | null;
  config_sha256: string;
  policy: { auc_margin: number; min_roc_auc: number | null };
  checks: ReleaseGateCheck[];
  registry: string;
  decided_at: string;
}

export interface ReleaseGateInput {
  runDir: string;
  config: Config;
  /** The config file's text: its sha256 must be the run's source.config_sha256. */
  configText: string;
  configPath: string;
  /** Directory data.train_path is relative to. */
  baseDir: string;
  registry: Registry;
  alias?: string;
  now?: Date;
}

export async function runReleaseGate(input: ReleaseGateInput): Promise<GateEvidence> {
  const alias = input.alias ?? "production";
  const { manifest, onnx } = readRun(input.runDir);
  const configSha = assertTrainedWith(manifest, input.configText, input.configPath);
  await assertTrainedOn(manifest, trainingDataPath(input.config.data.train_path, input.baseDir));
  const data = await prepareData(input.config, { baseDir: input.baseDir });
  for (const key of ["rows", "train_rows", "validation_rows"] as const)
    if (data.fingerprint[key] !== manifest.data[key])
      throw new UsageError(
        `the data at ${input.config.data.train_path} is not what run ${manifest.source.run_id} was trained on: data.${key} is ${data.fingerprint[key]}, the manifest says ${manifest.data[key]}`,
      );
  const rows = rawRows(data.validation.raw);
  const y = data.validation.y;
  const candidateAuc = rocAuc(y, await score(onnx, manifest, rows));

  const production = await scoreProduction(input.registry, manifest, alias, rows, y);
  const policy = { auc_margin: input.config.gate.auc_margin, min_roc_auc: input.config.gate.min_roc_auc ?? null };
  const decision = decideReleaseGate(candidateAuc, production?.roc_auc ?? null, {
    aucMargin: policy.auc_margin,
    minRocAuc: policy.min_roc_auc ?? undefined,
  });
  const evidence: GateEvidence = {
    passed: decision.passed,
    model: manifest.name,
    alias,
    candidate: { run_id: manifest.source.run_id, onnx_sha256: manifest.onnx.sha256, roc_auc: candidateAuc },
    production,
    rows: rows.length,
    positives: countPositives(y),
    data: {
      sha256: manifest.data.sha256,
      rows: manifest.data.rows,
      train_rows: manifest.data.train_rows,
      validation_rows: manifest.data.validation_rows,
      ...(manifest.data.source && { source: manifest.data.source }),
    },
    git_commit: manifest.source.git_commit,
    config_sha256: configSha,
    policy,
    checks: decision.checks,
    registry: input.registry.location,
    decided_at: (input.now ?? new Date()).toISOString(),
  };
  await writeFile(join(input.runDir, GATE_EVIDENCE_FILE), `${JSON.stringify(evidence, null, 2)}\n`);
  return evidence;
}

/** The CSV to evaluate on is not the bytes the run was trained on (`gate` exits 4). */
export class TrainingDataMismatch extends UsageError {
  override name = "TrainingDataMismatch";
}

/**
 * The file's sha256 against the manifest's, before any row is read. For a run trained on an R2
 * object the message names it, since the usual cause is the object being replaced between the
 * release's train and gate jobs (each fetches it).
 */
async function assertTrainedOn(manifest: Manifest, dataPath: string): Promise<void> {
  if (!existsSync(dataPath)) throw new UsageError(`${dataPath} does not exist: the gate needs the data run ${manifest.source.run_id} was trained on`);
  const actual = await sha256File(dataPath);
  const expected = manifest.data.source?.sha256 ?? manifest.data.sha256;
  if (actual === expected && actual === manifest.data.sha256) return;
  const short = (sha: string) => `${sha.slice(0, 12)}…`;
  const trainedOn = manifest.data.source ? `${objectUrl(manifest.data.source)} (sha256 ${short(expected)})` : `data with sha256 ${short(expected)}`;
  const fetched = readDataSource(dataPath);
  const here = !fetched ? "not fetched from R2" : fetched.sha256 === actual ? `fetched from ${objectUrl(fetched)}` : `edited since it was fetched from ${objectUrl(fetched)}`;
  throw new TrainingDataMismatch(
    `run ${manifest.source.run_id} was trained on ${trainedOn}, but ${dataPath} (${here}) has sha256 ${short(actual)}: ${manifest.data.source ? "the object was replaced since training, or another file is in place" : "another file is in place"}; gate the run on the data it was trained on, or train a new run`,
  );
}

/**
 * Checks that a config is the one a run was trained with (before anything else, so a wrong --config
 * fails without a registry); returns its sha256.
 */
export function checkRunConfig(runDir: string, configText: string, configPath: string): string {
  return assertTrainedWith(readRun(runDir).manifest, configText, configPath);
}

function assertTrainedWith(manifest: Manifest, configText: string, configPath: string): string {
  const configSha = sha256(configText);
  if (configSha !== manifest.source.config_sha256)
    throw new UsageError(
      `${configPath} (sha256 ${configSha.slice(0, 12)}…) is not the config run ${manifest.source.run_id} was trained with (sha256 ${manifest.source.config_sha256.slice(0, 12)}…): pass that file with --config (or leave --config out: the run keeps its own in ${RUN_CONFIG_FILE}), so the validation split can be rebuilt`,
    );
  return configSha;
}

function readRun(dir: string): { manifest: Manifest; onnx: Uint8Array } {
  let manifest: Manifest;
  let onnx: Uint8Array;
  try {
    manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")));
    onnx = new Uint8Array(readFileSync(join(dir, "model.onnx")));
  } catch (error) {
    throw new UsageError(`${dir} is not a readable run directory (model.onnx + manifest.json from \`npm run train\`): ${(error as Error).message}`);
  }
  if (sha256(onnx) !== manifest.onnx.sha256) throw new UsageError(`${dir}/model.onnx does not match the sha256 in its manifest.json`);
  return { manifest, onnx };
}

async function scoreProduction(registry: Registry, candidate: Manifest, alias: string, rows: FeatureRow[], y: Uint8Array) {
  const model = await registry.model(candidate.name);
  const version = model?.aliases[alias];
  if (version === undefined) return null;
  const detail = await registry.version(candidate.name, version);
  const manifest = manifestSchema.pick({ features: true, output: true }).parse(detail.manifest);
  const [negative, positive] = candidate.output.classes;
  if (manifest.output.classes[0] !== negative || manifest.output.classes[1] !== positive)
    throw new UsageError(
      `${alias} (version ${version}) predicts classes [${manifest.output.classes.join(", ")}], the candidate [${negative}, ${positive}]: their AUCs are not comparable`,
    );
  const onnx = await registry.modelOnnx(candidate.name, version);
  if (sha256(onnx) !== detail.sha256) throw new UsageError(`the model.onnx downloaded for version ${version} does not match its registered sha256`);
  return { version, sha256: detail.sha256, roc_auc: rocAuc(y, await score(onnx, manifest, rows)) };
}

async function score(onnx: Uint8Array, manifest: Pick<Manifest, "features">, rows: FeatureRow[]): Promise<Float64Array> {
  const session = await createSession(onnx);
  try {
    return Float64Array.from(await runRows(session, manifest.features, rows));
  } finally {
    await session.release();
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
