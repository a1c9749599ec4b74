/**
 * The offline wrangler environment, read from the project's `.env`: the one file that sets it.
 * Wrangler reads `.env` itself when run from the project root; code that starts wrangler or
 * Miniflare from elsewhere (getPlatformProxy, a spawned `wrangler dev`, the vitest pool) takes it
 * from here, and `.ci/run` sources the same file.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export const OFFLINE_ENV: Readonly<Record<string, string>> = Object.freeze(
  parseEnv(readFileSync(join(PROJECT_ROOT, ".env"), "utf8")) as Record<string, string>,
);

/** Puts the offline settings into this process's env, for wrangler APIs called in-process. */
export function applyOfflineEnv(): void {
  Object.assign(process.env, OFFLINE_ENV);
}
