/**
 * Publishes a trained artifact directory into the local D1 + R2 that `wrangler dev` serves, through
 * the worker's publishVersion() (checksum, graph signature and golden rows checked first):
 *   npx tsx scripts/register-model.ts artifacts/<run-id> [--alias production] [--by you]
 */
import { userInfo } from "node:os";
import { defineCommand, runMain } from "citty";
import { PublishError } from "../worker/registry/publish-version";
import { applyLocalMigrations, registerArtifactDir, withLocalBindings } from "../trainer/local-registry";

const main = defineCommand({
  meta: { name: "register-model", description: "Register an artifact directory into the local registry" },
  args: {
    dir: { type: "positional", description: "artifact directory (model.onnx, manifest.json, ...)", required: true },
    alias: { type: "string", description: "comma-separated aliases to point at the new version", default: "production" },
    by: { type: "string", description: "who registers it", default: userInfo().username },
    reason: { type: "string", description: "why, recorded in alias history", default: "registered locally" },
  },
  async run({ args }) {
    applyLocalMigrations();
    const aliases = args.alias ? args.alias.split(",").map((a) => a.trim()).filter(Boolean) : [];
    const result = await withLocalBindings((env) =>
      registerArtifactDir(env, args.dir, { aliases, createdBy: args.by, reason: args.reason }),
    ).catch((error: unknown) => {
      // A refused artifact is the user's to fix: say which step refused it and why, without a stack.
      if (!(error instanceof PublishError)) throw error;
      console.error(`${args.dir}: ${error.message}`);
      process.exit(2);
    });
    const moves = result.aliases.map((m) => `${m.alias} ${m.from === null ? "set" : `moved from version ${m.from}`}`);
    console.log(`published ${result.name} version ${result.version} (sha256 ${result.sha256.slice(0, 12)}…)${moves.length ? `; ${moves.join(", ")}` : ""}`);
  },
});

runMain(main);
