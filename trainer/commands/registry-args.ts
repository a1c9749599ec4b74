/**
 * What every release command shares: where the registry is (--registry / REGISTRY_URL, or --local
 * state), who acts (--by, recorded in the history), and --json. The admin token comes from the
 * ADMIN_TOKEN environment variable only, so it never lands in shell history or CI logs.
 */
import { userInfo } from "node:os";
import { HttpRegistry, type Registry } from "../registry-client";
import { UsageError } from "../user-errors";

export const registryArgs = {
  registry: { type: "string", description: "Registry URL (default: $REGISTRY_URL), e.g. http://127.0.0.1:8787" },
  local: { type: "boolean", description: "Write the local wrangler state directly, no server", default: false },
  "persist-to": { type: "string", description: "With --local: wrangler's --persist-to directory (default .wrangler/state)" },
  by: { type: "string", description: "Who acts, recorded in the history (default: $GITHUB_ACTOR or your user name)" },
  json: { type: "boolean", description: "Print the result as JSON", default: false },
} as const;

export interface RegistryTarget {
  registry?: string;
  local?: boolean;
  persistTo?: string;
  by?: string;
  /** Defaults to process.env: tests pass their own. */
  env?: Record<string, string | undefined>;
}

export function targetFromArgs(args: { registry?: string; local?: boolean; "persist-to"?: string; by?: string }): RegistryTarget {
  return { registry: args.registry, local: args.local, persistTo: args["persist-to"], by: args.by };
}

export async function withRegistry<T>(target: RegistryTarget, fn: (registry: Registry) => Promise<T>): Promise<T> {
  const env = target.env ?? process.env;
  const actor = actorName(target.by ?? env.GITHUB_ACTOR ?? userInfo().username);
  if (target.local) {
    if (target.registry) throw new UsageError("--local writes the local state directly: drop --registry, or drop --local");
    // Loaded on demand: it pulls in wrangler, which commands talking HTTP never need.
    const { withLocalRegistry } = await import("../local-registry-client");
    return withLocalRegistry({ persistTo: target.persistTo, actor }, fn);
  }
  const url = target.registry ?? env.REGISTRY_URL;
  if (!url) throw new UsageError("no registry: pass --registry <url>, set REGISTRY_URL, or use --local for the local state");
  return fn(new HttpRegistry({ url, token: env.ADMIN_TOKEN, actor }));
}

/** The worker accepts 1-64 characters from A-Z a-z 0-9 . _ @ : + - as an actor. */
function actorName(name: string): string {
  return name.replace(/[^A-Za-z0-9._@:+-]/g, "-").slice(0, 64) || "cli";
}

export function parseVersion(text: string): number {
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`version must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function requireReason(reason: string | undefined): string {
  if (!reason?.trim()) throw new UsageError("--reason is required: it is recorded in the alias history");
  return reason.trim();
}

export function printResult(json: boolean, result: unknown, text: string): void {
  console.log(json ? JSON.stringify(result, null, 2) : text);
}
