/** `archive <name> <version>`: retires a version; the registry refuses while an alias points at it. */
import { defineCommand } from "citty";
import type { ArchiveResult } from "../registry-client";
import { parseVersion, printResult, type RegistryTarget, registryArgs, requireReason, targetFromArgs, withRegistry } from "./registry-args";

export async function archiveModelVersion(name: string, version: number, options: { reason: string; target: RegistryTarget }): Promise<ArchiveResult> {
  const reason = requireReason(options.reason);
  return withRegistry(options.target, (registry) => registry.archive(name, version, reason));
}

export const archiveCommand = defineCommand({
  meta: { name: "archive", description: "Archive a version so it no longer serves" },
  args: {
    name: { type: "positional", description: "model name", required: true },
    version: { type: "positional", description: "version number", required: true },
    reason: { type: "string", description: "why (required)" },
    ...registryArgs,
  },
  async run({ args }) {
    const result = await archiveModelVersion(args.name, parseVersion(args.version), { reason: args.reason ?? "", target: targetFromArgs(args) });
    printResult(args.json, result, `${result.name} version ${result.version} is ${result.status}`);
  },
});
