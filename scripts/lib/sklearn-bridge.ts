/**
 * Hands prepared design matrices to a scikit-learn script so both sides fit the very same numbers:
 * X as raw little-endian float32 (row-major), y as uint8, plus meta.json with the shapes. Dev-only:
 * the comparison and benchmark scripts use it; tests never need Python.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Matrix } from "../../trainer/models/types";

export interface LabelledSplit {
  X: Matrix;
  y: Uint8Array;
}

/** Interpreter with scikit-learn (Debian: apt-get install -y python3-sklearn python3-scipy). */
export const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";

/** Writes <name>_X.f32, <name>_y.u8 for each split and meta.json; returns the directory. */
export function writeSplits(splits: Record<string, LabelledSplit>, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "sklearn-bridge-"));
  const meta: Record<string, unknown> = { ...extra, splits: {} };
  for (const [name, { X, y }] of Object.entries(splits)) {
    if (X.data.length !== X.rows * X.cols || y.length !== X.rows) throw new Error(`split ${name} has inconsistent shapes`);
    writeFileSync(join(dir, `${name}_X.f32`), new Uint8Array(X.data.buffer, X.data.byteOffset, X.data.byteLength));
    writeFileSync(join(dir, `${name}_y.u8`), y);
    (meta.splits as Record<string, unknown>)[name] = { rows: X.rows, cols: X.cols };
  }
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
  return dir;
}

/** Runs `python script dir ...args`, which must print one JSON object as its last stdout line. */
export function runSklearn<T>(script: string, dir: string, args: string[] = []): T {
  let stdout: string;
  try {
    stdout = execFileSync(PYTHON, [script, dir, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new Error(
      `${PYTHON} ${script} failed (${(error as Error).message.split("\n")[0]}). ` +
        "It needs scikit-learn: apt-get install -y python3-sklearn python3-scipy, or set PYTHON.",
    );
  }
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
