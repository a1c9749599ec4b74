/** Child processes for the benchmark: wrangler builds of the worker and the bundle as Miniflare modules. */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { OFFLINE_ENV } from "../../trainer/offline-env";

export const COMPATIBILITY_DATE = "2026-04-20";

/** Runs a command to completion (async, so Ctrl-C handlers still run); rejects with its output tail. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code ?? signal}:\n${output.slice(-3000)}`));
    });
  });
}

/**
 * Bundles a worker the way `wrangler deploy` would, without deploying: index.js plus the ORT wasm
 * beside it (imported as `./<hash>-ort-wasm-simd-threaded.wasm`). `entry` overrides the config's main.
 * Returns what wrangler printed (its "Total Upload: … / gzip: …" line among it).
 */
export async function buildBundle(root: string, outDir: string, entry?: string): Promise<string> {
  const args = ["wrangler", "deploy", "--dry-run", "--outdir", outDir];
  if (entry) args.splice(2, 0, entry);
  return run("npx", args, { cwd: root, env: { ...OFFLINE_ENV, CI: "1" } });
}

/**
 * The bundle as a Miniflare module list, typed by wrangler's default module rules (`.js` ESModule,
 * `.wasm` CompiledWasm, `.bin` Data, `.txt`/`.html` Text). Listed explicitly rather than through
 * `scriptPath` + `modulesRules`: Miniflare's import walker refuses the bundle because ORT contains a
 * dynamic `import(n)` with a non-literal specifier (ERR_MODULE_DYNAMIC_SPEC), so the rules are
 * applied here instead. The entry module must come first.
 */
export function bundleModules(outDir: string): { type: "ESModule" | "CompiledWasm" | "Data" | "Text"; path: string }[] {
  // The bundle's own scripts and what module rules attached; not source maps or wrangler's README.
  const files = readdirSync(outDir).filter((f) => ATTACHED.test(f) || f.endsWith(".js") || f.endsWith(".mjs"));
  // wrangler names the entry after the config's main (index.js) or the entry given on the command line.
  const scripts = files.filter((f) => f.endsWith(".js") && !ATTACHED.test(f));
  const entry = files.includes("index.js") ? "index.js" : scripts.length === 1 ? scripts[0] : undefined;
  if (!entry) throw new Error(`cannot tell the entry module of the bundle in ${outDir}: ${files.join(", ")}`);
  const modules = files.map((f) => ({ type: moduleType(f), path: join(outDir, f) }));
  modules.sort((a, b) => Number(b.path === join(outDir, entry)) - Number(a.path === join(outDir, entry)));
  return modules;
}

/** Files wrangler attaches beside the bundle by a module rule are named `<sha1>-<original name>`. */
const ATTACHED = /^[0-9a-f]{40}-/;

/** Attached `.wasm` is CompiledWasm (wrangler's default rule); the rest follow wrangler.toml's Text rules. */
function moduleType(file: string): "ESModule" | "CompiledWasm" | "Data" | "Text" {
  const ext = extname(file);
  if (!ATTACHED.test(file)) return "ESModule";
  return ext === ".wasm" ? "CompiledWasm" : ext === ".bin" ? "Data" : "Text";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
