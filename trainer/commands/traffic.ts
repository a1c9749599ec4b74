/**
 * `traffic [model]`: shows or changes a model's traffic policy. --canary-version/--percent send a
 * share of the default alias's requests to a candidate, --shadow-version/--sample-rate have it score
 * requests after the response and store paired outputs, --entity-field keeps an entity on one arm,
 * --drop-canary/--drop-shadow/--clear remove arms (every change is recorded in the alias history
 * with --reason). --pairs prints the shadow's paired outputs and their agreement. Without a model,
 * the one in --config (config.yaml's mlflow.model_name, the worker's DEFAULT_MODEL).
 */
import { defineCommand } from "citty";
import { loadConfig } from "../config";
import type { ShadowReport, TrafficChangeBody, TrafficPolicyView } from "../registry-client";
import { parseVersion, printResult, type RegistryTarget, registryArgs, requireReason, targetFromArgs, withRegistry } from "./registry-args";
import { UsageError } from "../user-errors";

export interface TrafficOptions {
  canaryVersion?: number;
  percent?: number;
  shadowVersion?: number;
  sampleRate?: number;
  /** A field name, or null to route by the x-entity-id header only. */
  entityField?: string | null;
  dropCanary?: boolean;
  dropShadow?: boolean;
  clear?: boolean;
  reason?: string;
  target: RegistryTarget;
}

/** Applies the change the options describe, or reads the policy when they describe none. */
export async function trafficPolicy(name: string, options: TrafficOptions): Promise<TrafficPolicyView> {
  const canary = options.canaryVersion !== undefined || options.percent !== undefined;
  const shadow = options.shadowVersion !== undefined || options.sampleRate !== undefined;
  if (options.clear && (canary || shadow || options.dropCanary || options.dropShadow || options.entityField !== undefined))
    throw new UsageError("--clear removes both arms: give it alone (with --reason)");
  if (canary && options.dropCanary) throw new UsageError("--drop-canary with --canary-version/--percent: choose one");
  if (shadow && options.dropShadow) throw new UsageError("--drop-shadow with --shadow-version/--sample-rate: choose one");
  const changes = canary || shadow || options.dropCanary || options.dropShadow || options.entityField !== undefined;
  return withRegistry(options.target, async (registry) => {
    if (options.clear) return registry.clearTraffic(name, requireReason(options.reason));
    if (!changes) return registry.traffic(name);
    const reason = requireReason(options.reason);
    // A percent or rate alone keeps the arm's version, a version alone keeps its percent or rate.
    const current = (canary && (options.canaryVersion === undefined || options.percent === undefined)) || (shadow && (options.shadowVersion === undefined || options.sampleRate === undefined))
      ? await registry.traffic(name)
      : null;
    const body: TrafficChangeBody = { reason };
    if (options.dropCanary) body.canary = null;
    else if (canary) {
      const version = options.canaryVersion ?? current?.canary?.version;
      const percent = options.percent ?? current?.canary?.percent;
      if (version === undefined) throw new UsageError(`${name} has no canary yet: give --canary-version`);
      if (percent === undefined) throw new UsageError(`${name} has no canary yet: give --percent`);
      body.canary = { version, percent };
    }
    if (options.dropShadow) body.shadow = null;
    else if (shadow) {
      const version = options.shadowVersion ?? current?.shadow?.version;
      const rate = options.sampleRate ?? current?.shadow?.sample_rate;
      if (version === undefined) throw new UsageError(`${name} has no shadow yet: give --shadow-version`);
      if (rate === undefined) throw new UsageError(`${name} has no shadow yet: give --sample-rate`);
      body.shadow = { version, sample_rate: rate };
    }
    if (options.entityField !== undefined) body.entity_field = options.entityField;
    return registry.setTraffic(name, body);
  });
}

export async function shadowReport(name: string, options: { limit?: number; version?: number; target: RegistryTarget }): Promise<ShadowReport> {
  return withRegistry(options.target, (registry) => registry.shadowPairs(name, { limit: options.limit, version: options.version }));
}

export function describeTraffic(p: TrafficPolicyView): string {
  const lines = [`${p.name}: ${p.primary.alias} -> ${p.primary.version === null ? "no version" : `version ${p.primary.version}`}`];
  lines.push(p.canary ? `  canary: version ${p.canary.version}, ${p.canary.percent}% of ${p.primary.alias} requests` : "  canary: none");
  lines.push(p.shadow ? `  shadow: version ${p.shadow.version}, paired outputs stored for ${p.shadow.sample_rate * 100}% of requests` : "  shadow: none");
  lines.push(`  sticky by: ${p.entity_field ? `x-entity-id, else the ${p.entity_field} field` : "x-entity-id"}`);
  if (p.updated_at) lines.push(`  changed ${p.updated_at} by ${p.updated_by}: ${p.reason}`);
  return lines.join("\n");
}

function describeReport(r: ShadowReport): string {
  const s = r.summary;
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
  return [
    `${r.name}: ${s.count} paired rows${r.shadow_version ? ` with shadow version ${r.shadow_version}` : ""}${s.first_at ? ` (${s.first_at} .. ${s.last_at})` : ""}`,
    `  decisions agree: ${pct(s.agreement_rate)}; mean |p_primary - p_shadow|: ${s.mean_abs_delta === null ? "n/a" : s.mean_abs_delta.toFixed(4)}`,
  ].join("\n");
}

function number(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function modelName(positional: string | undefined, configPath: string): string {
  if (positional) return positional;
  try {
    return loadConfig(configPath).config.mlflow.model_name;
  } catch (error) {
    throw new UsageError(`name the model, or give a --config with mlflow.model_name (${(error as Error).message})`);
  }
}

export const trafficCommand = defineCommand({
  meta: { name: "traffic", description: "Show or change a model's canary and shadow traffic (recorded in the alias history)" },
  args: {
    name: { type: "positional", description: "model name (default: mlflow.model_name in --config)", required: false },
    config: { type: "string", description: "config naming the default model", default: "config.yaml" },
    "canary-version": { type: "string", description: "version the canary arm serves" },
    percent: { type: "string", description: "share of default-alias requests the canary answers, 0-100" },
    "shadow-version": { type: "string", description: "version that scores requests after the response" },
    "sample-rate": { type: "string", description: "share of requests whose paired outputs are stored, 0-1" },
    "entity-field": { type: "string", description: "request field that keeps an entity on one arm ('none': the x-entity-id header only)" },
    "drop-canary": { type: "boolean", description: "remove the canary arm", default: false },
    "drop-shadow": { type: "boolean", description: "remove the shadow arm", default: false },
    clear: { type: "boolean", description: "remove both arms", default: false },
    pairs: { type: "boolean", description: "print the shadow's paired outputs and their agreement instead", default: false },
    limit: { type: "string", description: "with --pairs: latest pairs listed (default 100)" },
    reason: { type: "string", description: "why (required for a change, recorded in the history)" },
    ...registryArgs,
  },
  async run({ args }) {
    const name = modelName(args.name, args.config);
    const target = targetFromArgs(args);
    if (args.pairs) {
      const report = await shadowReport(name, {
        limit: number("limit", args.limit, 1, 1000),
        version: args["shadow-version"] === undefined ? undefined : parseVersion(args["shadow-version"]),
        target,
      });
      return printResult(args.json, report, describeReport(report));
    }
    const entity = args["entity-field"];
    const policy = await trafficPolicy(name, {
      canaryVersion: args["canary-version"] === undefined ? undefined : parseVersion(args["canary-version"]),
      percent: number("percent", args.percent, 0, 100),
      shadowVersion: args["shadow-version"] === undefined ? undefined : parseVersion(args["shadow-version"]),
      sampleRate: number("sample-rate", args["sample-rate"], 0, 1),
      entityField: entity === undefined ? undefined : entity === "none" ? null : entity,
      dropCanary: args["drop-canary"],
      dropShadow: args["drop-shadow"],
      clear: args.clear,
      reason: args.reason,
      target,
    });
    printResult(args.json, policy, describeTraffic(policy));
  },
});
