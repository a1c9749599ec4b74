/** `publish <run-dir>`: uploads a run directory to the registry, which replays its checks before storing it. */
import { defineCommand } from "citty";
import { type PublishResult, readArtifactDir } from "../registry-client";
import { printResult, type RegistryTarget, registryArgs, targetFromArgs, withRegistry } from "./registry-args";
import { UsageError } from "../user-errors";

export async function publishRun(dir: string, options: { aliases?: string[]; reason?: string; target: RegistryTarget }): Promise<PublishResult> {
  const files = readArtifactDir(dir);
  let name: unknown;
  try {
    name = (JSON.parse(files.manifestText) as { name?: unknown }).name;
  } catch (error) {
    throw new UsageError(`${dir}/manifest.json is not JSON: ${(error as Error).message}`);
  }
  if (typeof name !== "string" || !name) throw new UsageError(`${dir}/manifest.json has no model name`);
  return withRegistry(options.target, (registry) => registry.publish(files, { name, aliases: options.aliases ?? [], reason: options.reason }));
}

export function splitAliases(text: string | undefined): string[] {
  return (text ?? "").split(",").map((a) => a.trim()).filter(Boolean);
}

export const publishCommand = defineCommand({
  meta: { name: "publish", description: "Publish a run directory (model.onnx, manifest.json, ...) as a new version" },
  args: {
    dir: { type: "positional", description: "run directory, e.g. artifacts/<run-id>", required: true },
    alias: { type: "string", description: "comma-separated aliases to point at the new version" },
    reason: { type: "string", description: "why, recorded in the alias history with each alias set" },
    ...registryArgs,
  },
  async run({ args }) {
    const result = await publishRun(args.dir, { aliases: splitAliases(args.alias), reason: args.reason, target: targetFromArgs(args) });
    const moves = result.aliases.map((m) => `${m.alias} ${m.from === null ? "set" : `moved from version ${m.from}`}`);
    printResult(args.json, result, `published ${result.name} version ${result.version} (sha256 ${result.sha256.slice(0, 12)}…)${moves.length ? `; ${moves.join(", ")}` : ""}`);
  },
});
