/** The default model for the measurements: config.yaml trained by the trainer CLI into a given dir (about 3 s). */
import { spawn } from "node:child_process";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../trainer/offline-env";

/** Runs `trainer train --artifacts-dir <dir> --json`; returns the run directory it wrote. */
export function trainDefaultModel(artifactsDir: string): Promise<string> {
  return new Promise((resolveDir, reject) => {
    const child = spawn("npx", ["tsx", "trainer/cli.ts", "train", "--artifacts-dir", artifactsDir, "--json"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...OFFLINE_ENV },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`trainer train exited with ${code}:\n${err.slice(-2000)}`));
      try {
        resolveDir((JSON.parse(out) as { dir: string }).dir);
      } catch (error) {
        reject(new Error(`could not read the trainer's --json summary: ${String(error)}`));
      }
    });
  });
}
