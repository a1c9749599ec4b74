/** Runs a program as a user would and answers its exit code with its output, instead of throwing on a non-zero one. */
import { type ExecFileOptions, execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `file args` with its exit code, stdout and stderr. A program that cannot start (ENOENT) or is
 * killed by a signal has no exit code: that still throws.
 */
export async function runCommand(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { maxBuffer: 64 << 20, ...options, encoding: "utf8" });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
