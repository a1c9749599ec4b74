/**
 * `rollout <model> [status|abort|history]`: progressive delivery from the command line.
 *   rollout <model> --version N --steps 5,25,50,100 --step-minutes 10 --reason ...   starts one
 *   rollout <model> status                  the active (else the latest) rollout: step, checks, timeline
 *   rollout <model> abort --id N --reason   ends it by hand; the canary is cleared
 *   rollout <model> history                 every rollout of the model, latest first
 * The model comes first and the action second (citty's subcommands would need the action first),
 * so one command takes both as positionals. Steps, step minutes, minimum requests and checks default
 * to config.yaml's `rollout:` section, then to the worker's own defaults; the worker judges and
 * moves the rollout by itself (its minute cron).
 */
import { existsSync } from "node:fs";
import { defineCommand } from "citty";
import { type Config, loadConfig } from "../config";
import type { RolloutHistory, RolloutStartBody, RolloutView } from "../registry-client";
import { describeRollout, describeRolloutHistory } from "../report/rollout-status";
import { UsageError } from "../user-errors";
import { checkEvidence, readEvidence } from "./promote";
import { parseVersion, printResult, type RegistryTarget, registryArgs, requireReason, targetFromArgs, withRegistry } from "./registry-args";

export const ROLLOUT_ACTIONS = ["start", "status", "abort", "history"] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

type RolloutConfig = NonNullable<Config["rollout"]>;
export type RolloutCheckOverrides = NonNullable<RolloutConfig["checks"]>;

/** Flags of the start action that map one to one onto a check (max_score_psi also takes "none"). */
const CHECK_FLAGS = {
  "max-error-rate-increase": "max_error_rate_increase",
  "max-latency-ratio": "max_latency_ratio",
  "min-latency-requests": "min_latency_requests",
  "max-score-psi": "max_score_psi",
  "score-alpha": "score_alpha",
  "min-scores": "min_scores",
  "auc-margin": "auc_margin",
  "min-labels": "min_labels",
} as const satisfies Record<string, keyof RolloutCheckOverrides>;

const START_FLAGS = ["version", "steps", "step-minutes", "min-requests", "evidence-file", "config", ...Object.keys(CHECK_FLAGS)] as const;

export interface RolloutStartOptions {
  version: number;
  steps?: number[];
  stepMinutes?: number;
  minRequests?: number;
  checks?: RolloutCheckOverrides;
  reason?: string;
  /** config.yaml's `rollout:` section: the defaults under the flags. */
  defaults?: RolloutConfig;
  /** gate.json: refused when it records a failed gate or another model file. */
  evidenceFile?: string;
  target: RegistryTarget;
}

/** The start request: flags over config.yaml's section; anything neither gives is left to the worker. */
export function rolloutStartBody(options: Omit<RolloutStartOptions, "target" | "evidenceFile">): RolloutStartBody {
  const defaults = options.defaults ?? {};
  const steps = options.steps ?? defaults.steps;
  if (!steps) throw new UsageError("--steps is required (e.g. --steps 5,25,50,100), or set rollout.steps in config.yaml");
  const body: RolloutStartBody = { version: options.version, steps, reason: requireReason(options.reason) };
  const stepMinutes = options.stepMinutes ?? defaults.step_minutes;
  const minRequests = options.minRequests ?? defaults.min_requests;
  if (stepMinutes !== undefined) body.step_minutes = stepMinutes;
  if (minRequests !== undefined) body.min_requests = minRequests;
  const checks = { ...defaults.checks, ...options.checks };
  if (Object.keys(checks).length) body.checks = checks;
  return body;
}

export async function startModelRollout(name: string, options: RolloutStartOptions): Promise<RolloutView> {
  const body = rolloutStartBody(options);
  const evidence = options.evidenceFile === undefined ? undefined : readEvidence(options.evidenceFile);
  return withRegistry(options.target, async (registry) => {
    if (evidence) await checkEvidence(registry, name, options.version, evidence, options.evidenceFile!, "rolling out");
    return registry.startRollout(name, body);
  });
}

export interface RolloutStatus {
  name: string;
  active: boolean;
  /** The active rollout, else the latest one; null when the model never had one. */
  rollout: RolloutView | null;
}

export async function rolloutStatus(name: string, options: { target: RegistryTarget }): Promise<RolloutStatus> {
  const { rollouts } = await withRegistry(options.target, (registry) => registry.rollouts(name));
  const rollout = rollouts.find((r) => r.status === "active") ?? rollouts[0] ?? null;
  return { name, active: rollout?.status === "active", rollout };
}

export async function abortModelRollout(name: string, id: number, options: { reason?: string; target: RegistryTarget }): Promise<RolloutView> {
  const reason = requireReason(options.reason);
  return withRegistry(options.target, (registry) => registry.abortRollout(name, id, reason));
}

export async function listRollouts(name: string, options: { target: RegistryTarget }): Promise<RolloutHistory> {
  return withRegistry(options.target, (registry) => registry.rollouts(name));
}

export function parseAction(name: string, action: string | undefined): RolloutAction {
  if (action === undefined) {
    if ((ROLLOUT_ACTIONS as readonly string[]).includes(name)) throw new UsageError(`name the model first: rollout <model> ${name}`);
    return "start";
  }
  if (!(ROLLOUT_ACTIONS as readonly string[]).includes(action))
    throw new UsageError(`unknown action ${JSON.stringify(action)}: rollout <model> [${ROLLOUT_ACTIONS.join("|")}] (start is the default)`);
  return action as RolloutAction;
}

/** "5,25,50,100": percents, each in (0, 100], strictly increasing. */
export function parseSteps(text: string): number[] {
  const steps: number[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    const step = Number(part);
    if (part === "" || !Number.isFinite(step) || step <= 0 || step > 100)
      throw new UsageError(`--steps takes percents above 0 and up to 100, separated by commas (e.g. 5,25,50,100); got ${JSON.stringify(part)}`);
    const last = steps.at(-1);
    if (last !== undefined && step <= last) throw new UsageError(`--steps must increase: ${last} then ${step} in ${JSON.stringify(text)}`);
    steps.push(step);
  }
  return steps;
}

function numberFlag(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
    throw new UsageError(`--${flag} must be ${integer ? "a whole number" : "a number"}, got ${JSON.stringify(text)}`);
  return value;
}

function checkOverrides(args: Record<string, unknown>): RolloutCheckOverrides {
  const checks: Record<string, number | null> = {};
  for (const [flag, key] of Object.entries(CHECK_FLAGS)) {
    const text = args[flag] as string | undefined;
    if (text === undefined) continue;
    checks[key] = key === "max_score_psi" && text === "none" ? null : numberFlag(flag, text, key === "min_scores" || key === "min_labels")!;
  }
  return checks as RolloutCheckOverrides;
}

/** config.yaml's `rollout:` section: from --config, else ./config.yaml when there is one. */
function configDefaults(path: string | undefined): RolloutConfig | undefined {
  const file = path ?? (existsSync("config.yaml") ? "config.yaml" : undefined);
  if (file === undefined) return undefined;
  if (!existsSync(file)) throw new UsageError(`--config ${file} does not exist`);
  return loadConfig(file).config.rollout;
}

const checkFlagArgs = Object.fromEntries(
  Object.entries(CHECK_FLAGS).map(([flag, key]) => [flag, { type: "string", description: `start: checks.${key}${key === "max_score_psi" ? " ('none' turns the score check off)" : ""}` }]),
) as Record<keyof typeof CHECK_FLAGS, { type: "string"; description: string }>;

export const rolloutCommand = defineCommand({
  meta: { name: "rollout", description: "Start, show or abort a model's rollout: a canary ramped step by step, judged against production, promoted or aborted by itself" },
  args: {
    name: { type: "positional", description: "model name", required: true },
    action: { type: "positional", description: `${ROLLOUT_ACTIONS.join(" | ")} (default start)`, required: false },
    version: { type: "string", description: "start: the ready version to roll out" },
    steps: { type: "string", description: "start: percents of the default alias's traffic, increasing, e.g. 5,25,50,100 (default: rollout.steps in config.yaml)" },
    "step-minutes": { type: "string", description: "start: minimum minutes at each step" },
    "min-requests": { type: "string", description: "start: requests each arm answers in a step before it can pass" },
    ...checkFlagArgs,
    config: { type: "string", description: "start: config whose rollout: section gives the defaults (default ./config.yaml when present)" },
    "evidence-file": { type: "string", description: "start: gate.json; a failed gate or another model file is refused before anything starts" },
    id: { type: "string", description: "abort: the rollout's id (see status)" },
    reason: { type: "string", description: "start, abort: why (required, recorded in the history)" },
    ...registryArgs,
  },
  async run({ args }) {
    const action = parseAction(args.name, args.action);
    const given = (flags: readonly string[]) => flags.filter((f) => (args as Record<string, unknown>)[f] !== undefined);
    const misplaced = action === "start" ? given(["id"]) : given(START_FLAGS);
    if (misplaced.length)
      throw new UsageError(action === "start" ? "--id is for abort: rollout <model> abort --id N --reason ..." : `--${misplaced[0]} is for starting a rollout: drop it from \`rollout <model> ${action}\``);
    if (action === "abort" && args.id === undefined) throw new UsageError("abort needs --id (the rollout's id, see `rollout <model> status`) and --reason");
    const target = targetFromArgs(args);
    if (action === "start") {
      if (args.version === undefined) throw new UsageError("--version is required to start a rollout (or give an action: status, abort, history)");
      const rollout = await startModelRollout(args.name, {
        version: parseVersion(args.version),
        steps: args.steps === undefined ? undefined : parseSteps(args.steps),
        stepMinutes: numberFlag("step-minutes", args["step-minutes"], true),
        minRequests: numberFlag("min-requests", args["min-requests"], true),
        checks: checkOverrides(args),
        reason: args.reason,
        defaults: configDefaults(args.config),
        evidenceFile: args["evidence-file"],
        target,
      });
      return printResult(args.json, rollout, describeRollout(rollout));
    }
    if (action === "abort") {
      if (!/^[1-9][0-9]*$/.test(args.id!)) throw new UsageError(`--id must be a positive integer, got ${JSON.stringify(args.id)}`);
      const rollout = await abortModelRollout(args.name, Number(args.id), { reason: args.reason, target });
      return printResult(args.json, rollout, describeRollout(rollout));
    }
    if (action === "history") {
      const history = await listRollouts(args.name, { target });
      return printResult(args.json, history, describeRolloutHistory(history));
    }
    const status = await rolloutStatus(args.name, { target });
    printResult(args.json, status, status.rollout ? describeRollout(status.rollout) : `${status.name}: no rollout yet`);
  },
});
