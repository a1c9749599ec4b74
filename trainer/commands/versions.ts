/** `versions <name>`: the model's versions with status, aliases and validation ROC AUC, newest first. */
import { defineCommand } from "citty";
import type { ModelDetail } from "../registry-client";
import { printResult, type RegistryTarget, registryArgs, targetFromArgs, withRegistry } from "./registry-args";
import { UsageError } from "../user-errors";

export async function listVersions(name: string, options: { target: RegistryTarget }): Promise<ModelDetail> {
  const model = await withRegistry(options.target, (registry) => registry.model(name));
  if (!model) throw new UsageError(`model ${name} is not registered`);
  return model;
}

export const versionsCommand = defineCommand({
  meta: { name: "versions", description: "List a model's versions and aliases" },
  args: {
    name: { type: "positional", description: "model name", required: true },
    ...registryArgs,
  },
  async run({ args }) {
    const model = await listVersions(args.name, { target: targetFromArgs(args) });
    if (args.json) return printResult(true, model, "");
    console.table(
      model.versions.map((v) => ({
        version: v.version,
        status: v.status,
        aliases: v.aliases.join(", "),
        roc_auc: typeof v.metrics?.roc_auc === "number" ? v.metrics.roc_auc.toFixed(4) : "",
        created: `${v.created_at} by ${v.created_by}`,
        sha256: `${v.sha256.slice(0, 12)}…`,
      })),
    );
  },
});
