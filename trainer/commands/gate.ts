/**
 * `gate <run-dir>`: candidate vs the production version on the candidate's validation split; exit 0
 * on pass, 3 on fail, 2 on a usage error. The evidence is printed and written to <run-dir>/gate.json
 * for `promote --evidence-file`.
 */
import { dirname, resolve } from "node:path";
import { defineCommand } from "citty";
import { loadConfig } from "../config";
import { type GateEvidence, GATE_EVIDENCE_FILE, runReleaseGate } from "../gate/run-release-gate";
import { type RegistryTarget, registryArgs, targetFromArgs, withRegistry } from "./registry-args";

export const GATE_FAILED_EXIT_CODE = 3;

export async function gateRun(dir: string, options: { configPath?: string; alias?: string; target: RegistryTarget }): Promise<GateEvidence> {
  const configPath = options.configPath ?? "config.yaml";
  const { config, text } = loadConfig(configPath);
  return withRegistry(options.target, (registry) =>
    runReleaseGate({ runDir: dir, config, configText: text, configPath, baseDir: dirname(resolve(configPath)), registry, alias: options.alias }),
  );
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
  meta: { name: "gate", description: "Compare a run with the production version on its validation split (exit 0 pass, 3 fail)" },
  args: {
    dir: { type: "positional", description: "run directory, e.g. artifacts/<run-id>", required: true },
    config: { type: "string", description: "The config the run was trained with", default: "config.yaml" },
    alias: { type: "string", description: "The alias to compare against", default: "production" },
    ...registryArgs,
  },
  async run({ args }) {
    const evidence = await gateRun(args.dir, { configPath: args.config, alias: args.alias, target: targetFromArgs(args) });
    if (args.json) console.log(JSON.stringify(evidence, null, 2));
    else console.log(`${describeEvidence(evidence)}\n  evidence: ${resolve(args.dir, GATE_EVIDENCE_FILE)}`);
    if (!evidence.passed) process.exitCode = GATE_FAILED_EXIT_CODE;
  },
});
