/**
 * `promote <name> <version>`: points an alias (production) at a version, with the reason and,
 * from --evidence-file, the gate's evidence stored in the alias history. Evidence for another
 * model file, or from a failed gate, is refused before anything moves.
 */
import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import type { GateEvidence } from "../gate/run-release-gate";
import type { AliasMoveResult, Registry } from "../registry-client";
import { parseVersion, printResult, type RegistryTarget, registryArgs, requireReason, targetFromArgs, withRegistry } from "./registry-args";
import { UsageError } from "../user-errors";

export interface PromoteOptions {
  alias?: string;
  reason: string;
  evidenceFile?: string;
  target: RegistryTarget;
}

export async function promoteVersion(name: string, version: number, options: PromoteOptions): Promise<AliasMoveResult> {
  const reason = requireReason(options.reason);
  const evidence = options.evidenceFile === undefined ? undefined : readEvidence(options.evidenceFile);
  return withRegistry(options.target, async (registry) => {
    if (evidence) await checkEvidence(registry, name, version, evidence, options.evidenceFile!);
    return registry.setAlias(name, options.alias ?? "production", { version, reason, evidence });
  });
}

export function readEvidence(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--evidence-file ${path}: ${(error as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new UsageError(`--evidence-file ${path} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Gate evidence (gate.json) must be about this very file and must have passed. `action` names what a failed gate stops. */
export async function checkEvidence(registry: Registry, name: string, version: number, evidence: Record<string, unknown>, path: string, action = "promoting"): Promise<void> {
  const gate = evidence as Partial<GateEvidence>;
  if (gate.candidate?.onnx_sha256 === undefined) return;
  if (gate.model !== name) throw new UsageError(`${path} is gate evidence for model ${gate.model}, not ${name}`);
  if (gate.passed !== true) throw new UsageError(`${path} records a failed gate for run ${gate.candidate.run_id}: not ${action}`);
  const { sha256 } = await registry.version(name, version);
  if (sha256 !== gate.candidate.onnx_sha256)
    throw new UsageError(`${path} judged model.onnx sha256 ${gate.candidate.onnx_sha256.slice(0, 12)}…, but version ${version} of ${name} is ${sha256.slice(0, 12)}…`);
}

export const promoteCommand = defineCommand({
  meta: { name: "promote", description: "Point an alias (default production) at a version, recorded with reason and evidence" },
  args: {
    name: { type: "positional", description: "model name", required: true },
    version: { type: "positional", description: "version number", required: true },
    alias: { type: "string", description: "alias to move", default: "production" },
    reason: { type: "string", description: "why (required, recorded in the history)" },
    "evidence-file": { type: "string", description: "JSON object stored with the move, e.g. <run-dir>/gate.json" },
    ...registryArgs,
  },
  async run({ args }) {
    const moved = await promoteVersion(args.name, parseVersion(args.version), {
      alias: args.alias,
      reason: args.reason ?? "",
      evidenceFile: args["evidence-file"],
      target: targetFromArgs(args),
    });
    printResult(args.json, moved, `${moved.name}: ${moved.alias} -> version ${moved.to}${moved.from === null ? " (new alias)" : ` (was ${moved.from})`}`);
  },
});
