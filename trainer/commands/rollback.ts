/** `rollback <name>`: moves an alias (default production) back to the version it last moved from. */
import { defineCommand } from "citty";
import type { AliasMoveResult } from "../registry-client";
import { printResult, type RegistryTarget, registryArgs, requireReason, targetFromArgs, withRegistry } from "./registry-args";

export async function rollbackAlias(name: string, options: { alias?: string; reason: string; target: RegistryTarget }): Promise<AliasMoveResult> {
  const reason = requireReason(options.reason);
  return withRegistry(options.target, (registry) => registry.rollback(name, { alias: options.alias, reason }));
}

export const rollbackCommand = defineCommand({
  meta: { name: "rollback", description: "Move an alias back to its previous version, from the alias history" },
  args: {
    name: { type: "positional", description: "model name", required: true },
    alias: { type: "string", description: "alias to roll back (default: the worker's DEFAULT_ALIAS, production)" },
    reason: { type: "string", description: "why (required, recorded in the history)" },
    ...registryArgs,
  },
  async run({ args }) {
    const moved = await rollbackAlias(args.name, { alias: args.alias, reason: args.reason ?? "", target: targetFromArgs(args) });
    printResult(args.json, moved, `${moved.name}: ${moved.alias} rolled back to version ${moved.to} (was ${moved.from})`);
  },
});
