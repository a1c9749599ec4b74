/**
 * XGBoost's own probabilities, the reference an import is checked against: either read from a
 * file written where the booster lives (--expected, scripts/reference/xgboost_predict.py's output
 * format), or computed here by running that script with a Python that has xgboost.
 *
 * The booster's input is encoded here in plain code, independently of the ONNX graph's one-hot:
 * numbers as they are (null -> missing), a one-hot column 1 when the row's category is its category.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { normalizeCategory } from "../../worker/contract/category-value";
import type { FeatureRow } from "../../worker/contract/manifest";
import { UsageError } from "../user-errors";
import type { BoosterLayout } from "./map-features";

export const PREDICT_SCRIPT = resolve(fileURLToPath(import.meta.url), "../../../scripts/reference/xgboost_predict.py");

const referenceSchema = z.object({ xgboost_version: z.string().optional(), probabilities: z.array(z.number()) });
export type XgboostReference = z.infer<typeof referenceSchema>;

/** The booster's input rows: one value per booster feature, null for missing. */
export function boosterMatrix(layout: BoosterLayout, rows: readonly FeatureRow[]): (number | null)[][] {
  return rows.map((row) =>
    layout.columns.map((c) => {
      const value = row[c.feature];
      if (c.kind === "numeric") return typeof value === "number" ? Math.fround(value) : null;
      return typeof value === "string" && normalizeCategory(value) === c.category ? 1 : 0;
    }),
  );
}

export async function readReference(path: string): Promise<XgboostReference> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--expected ${path} is not a readable JSON file: ${(error as Error).message}`);
  }
  const parsed = referenceSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`--expected ${path} must be {"probabilities": [number, ...]} (one per data row), as scripts/reference/xgboost_predict.py writes`);
  return parsed.data;
}

/** The Python that runs the reference script: $XGBOOST_PYTHON, else Debian's, else python3 on PATH. */
export function referencePython(): string {
  return process.env.XGBOOST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

export async function predictWithXgboost(modelPath: string, featureNames: readonly string[], matrix: (number | null)[][]): Promise<XgboostReference> {
  const dir = await mkdtemp(join(tmpdir(), "xgboost-reference-"));
  try {
    const input = join(dir, "matrix.json");
    const output = join(dir, "out.json");
    await writeFile(input, JSON.stringify({ feature_names: featureNames, rows: matrix }));
    const python = referencePython();
    await new Promise<void>((done, fail) => {
      execFile(python, [PREDICT_SCRIPT, modelPath, input, output], { maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
        if (!error) return done();
        const reason = /No module named '?xgboost/.test(stderr) ? "it has no xgboost module (Debian: apt-get install python3-xgboost)" : stderr.trim().split("\n").slice(-3).join(" / ") || error.message;
        fail(new UsageError(`could not compute XGBoost's own probabilities with ${python} ${PREDICT_SCRIPT}: ${reason}. Set XGBOOST_PYTHON, or pass --expected <probabilities.json> written by that script where the booster was trained`));
      });
    });
    const result = await readReference(output);
    if (result.probabilities.length !== matrix.length) throw new Error(`${PREDICT_SCRIPT} returned ${result.probabilities.length} probabilities for ${matrix.length} rows`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
