/**
 * `gate <run-dir>`: candidate vs the production version on the candidate's validation split; exit 0
 * on pass, 3 on fail, 4 when the data is not what the run was trained on, 2 on another usage error.
 * The evidence is printed and written to <run-dir>/gate.json for `promote --evidence-file`. The validation split is rebuilt from the config the run was trained
 * with (<run-dir>/config.json) unless --config names one.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { defineCommand } from "citty";
import { type Config, loadConfig } from "../config";
import { checkRunConfig, type GateEvidence, GATE_EVIDENCE_FILE, runReleaseGate, TrainingDataMismatch } from "../gate/run-release-gate";
import { readRunConfig, RUN_CONFIG_FILE } from "../pipeline/run-config";
import { type RegistryTarget, registryArgs, targetFromArgs, withRegistry } from "./registry-args";
import { UsageError } from "../user-errors";

export const GATE_FAILED_EXIT_CODE = 3;
/** The CSV is not the one the run was trained on (for an R2-trained run: not the fetched object). */
export const DATA_MISMATCH_EXIT_CODE = 4;

/** A run directory written before runs kept their config is gated with this file unless --config names one. */
const LEGACY_DEFAULT_CONFIG = "config.yaml";

export interface GateConfig {
  config: Config;
  configText: string;
  /** Where the config came from, for messages: the --config file or <run-dir>/config.json. */
  configPath: string;
  /** Directory data.train_path is relative to. */
  baseDir: string;
}

/**
 * The config the gate rebuilds the validation split from: --config when given (paths relative to
 * that file), else the run's own config.json (paths relative to the directory it was read from at
 * training). Either way runReleaseGate checks its sha256 against the manifest.
 */
export function gateConfig(dir: string, configPath?: string): GateConfig {
  if (configPath === undefined) {
    const own = readRunConfig(dir);
    if (own) {
      if (!existsSync(own.dataPath))
        throw new UsageError(
          `run ${dir} was trained on ${own.dataPath}, which is not there now: restore that file, or pass --config <the config the run was trained with> to read data.train_path relative to it`,
        );
      return { config: own.config, configText: own.text, configPath: own.path, baseDir: own.baseDir };
    }
    configPath = LEGACY_DEFAULT_CONFIG;
  }
  if (!existsSync(configPath))
    throw new UsageError(`config ${configPath} not found${configPath === LEGACY_DEFAULT_CONFIG ? ` (${dir} has no ${RUN_CONFIG_FILE}): pass --config <the config the run was trained with>` : ""}`);
  const { config, text } = loadConfig(configPath);
  return { config, configText: text, configPath, baseDir: dirname(resolve(configPath)) };
}

export async function gateRun(dir: string, options: { configPath?: string; alias?: string; target: RegistryTarget }): Promise<GateEvidence> {
  const source = gateConfig(dir, options.configPath);
  checkRunConfig(dir, source.configText, source.configPath);
  return withRegistry(options.target, (registry) => runReleaseGate({ runDir: dir, ...source, registry, alias: options.alias }));
}

export function describeEvidence(e: GateEvidence): string {
  const f = (n: number) => n.toFixed(4);
  const lines = [
    `gate ${e.passed ? "PASSED" : "FAILED"}: ${e.model} run ${e.candidate.run_id}`,
    `  candidate ROC AUC  ${f(e.candidate.roc_auc)}`,
    e.production
      ? `  ${e.alias} (v${e.production.version}) ROC AUC  ${f(e.production.roc_auc)}`
      : `  ${e.alias}: none yet (first model, judged on the minimum alone)`,
    ...e.checks.map((c) => `  ${c.rule}: ${f(c.value)} >= ${f(c.limit)} ${c.passed ? "pass" : "FAIL"}`),
    `  rows ${e.rows} (${e.positives} positive), validation split of data sha256 ${e.data.sha256.slice(0, 12)}…`,
    `  git commit ${e.git_commit ?? "unknown"}; registry ${e.registry}`,
  ];
  if (!e.checks.length) lines.push("  no minimum configured (gate.min_roc_auc): nothing to check");
  return lines.join("\n");
}

export const gateCommand = defineCommand({
  meta: { name: "gate", description: "Compare a run with the production version on its validation split (exit 0 pass, 3 fail, 4 other data)" },
  args: {
    dir: { type: "positional", description: "run directory, e.g. artifacts/<run-id>", required: true },
    config: { type: "string", description: `The config the run was trained with (default: the run's own ${RUN_CONFIG_FILE})` },
    alias: { type: "string", description: "The alias to compare against", default: "production" },
    ...registryArgs,
  },
  async run({ args }) {
    let evidence: GateEvidence;
    try {
      evidence = await gateRun(args.dir, { configPath: args.config, alias: args.alias, target: targetFromArgs(args) });
    } catch (error) {
      if (!(error instanceof TrainingDataMismatch)) throw error;
      console.error(`error: ${error.message}`);
      process.exitCode = DATA_MISMATCH_EXIT_CODE;
      return;
    }
    if (args.json) console.log(JSON.stringify(evidence, null, 2));
    else console.log(`${describeEvidence(evidence)}\n  evidence: ${resolve(args.dir, GATE_EVIDENCE_FILE)}`);
    if (!evidence.passed) process.exitCode = GATE_FAILED_EXIT_CODE;
  },
});
