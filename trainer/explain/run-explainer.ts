/**
 * A training run's explainer: the background drawn with the seed from the training split, its
 * design rows taken from the exported graph's own `design` output (what serving will hand the
 * explainer), explainer.json, its manifest block, and the golden rows' explanations. The golden
 * explanations must add up to the graph's probability, or the run stops: a version whose
 * explanations do not reproduce its predictions is not published. With importance rows (validation
 * rows drawn with the seed), also the global importance: mean |contribution| per feature over them,
 * written into the manifest block as the reference the cron's attribution drift compares with.
 */
import { createHash } from "node:crypto";
import { DESIGN_OUTPUT, type Explainer, type Explanation } from "../../worker/contract/explainer";
import type { FeatureRow, FeatureSpec, Manifest } from "../../worker/contract/manifest";
import { explainRows } from "../../worker/explain/explain-rows";
import { meanAbsContributions } from "../../worker/explain/global-importance";
import type { TrainedModel } from "../models/types";
import { explainedProbability } from "../../worker/explain/explained-output";
import { createSession, runWithDesign, type Session } from "../onnx/node-runtime";
import { rawRows, selectRows, type RawSplit } from "../pipeline/prepare";
import type { Rng } from "../random";
import { buildExplainer } from "./build-explainer";

/** |base + Σ contributions - p| allowed on a golden row, in probability (log-odds explainers through the sigmoid). */
export const ADDITIVITY_TOLERANCE = 1e-5;

export interface RunExplainerInput {
  onnx: Uint8Array;
  features: readonly FeatureSpec[];
  preprocessing: Manifest["preprocessing"];
  model: TrainedModel;
  train: RawSplit;
  backgroundRows: number;
  rng: Rng;
  golden: readonly FeatureRow[];
  /** Validation rows to compute the global importance over (none: no importance). */
  importanceRows?: readonly FeatureRow[];
}

export interface RunExplainer {
  explainer: Explainer;
  /** explainer.json's bytes, as hashed into the manifest. */
  bytes: Uint8Array;
  block: NonNullable<Manifest["explainer"]>;
  golden: Explanation[];
}

export async function buildRunExplainer(input: RunExplainerInput): Promise<RunExplainer> {
  const background = rawRows(selectRows(input.train, drawBackground(input.train.rowNumbers.length, input.backgroundRows, input.rng)));
  const session = await createSession(input.onnx);
  try {
    const { design } = await runWithDesign(session, input.features, background);
    const explainer = buildExplainer({ features: input.features, preprocessing: input.preprocessing, model: input.model, background, backgroundDesign: design });
    const goldenRun = input.golden.length ? await runWithDesign(session, input.features, input.golden) : { p: new Float32Array(0), design: new Float32Array(0) };
    const golden = explainRows(explainer, goldenRun.design);
    golden.forEach((e, i) => {
      const gap = additivityGap(explainer.space, e, goldenRun.p[i]!);
      if (!(gap <= ADDITIVITY_TOLERANCE))
        throw new Error(`explainer: golden row ${i}'s contributions add up to ${gap.toExponential(3)} away from the graph's probability ${goldenRun.p[i]} (tolerance ${ADDITIVITY_TOLERANCE}); input ${JSON.stringify(input.golden[i])}`);
    });
    const importance = input.importanceRows?.length ? await globalImportance(session, explainer, input.features, input.importanceRows) : undefined;
    const bytes = new TextEncoder().encode(`${JSON.stringify(explainer)}\n`);
    return {
      explainer,
      bytes,
      block: {
        sha256: createHash("sha256").update(bytes).digest("hex"),
        size: bytes.byteLength,
        space: explainer.space,
        design_output: DESIGN_OUTPUT,
        background_rows: background.length,
        ...(importance && { importance }),
      },
      golden,
    };
  } finally {
    await session.release();
  }
}

/** Mean |contribution| per feature over the rows, keyed by feature name, from the graph's own design rows. */
async function globalImportance(session: Session, explainer: Explainer, features: readonly FeatureSpec[], rows: readonly FeatureRow[]) {
  const { design } = await runWithDesign(session, features, rows);
  const meanAbs = meanAbsContributions(explainRows(explainer, design));
  return { split: "validation" as const, rows: rows.length, mean_abs: Object.fromEntries(explainer.features.map((f, i) => [f.name, meanAbs[i]!])) };
}

/**
 * Validation rows the global importance is computed over, at most: explaining a row of the default
 * forest (200 trees, depth 8, 100 background rows) costs ~10 ms, so ~5 s per run.
 */
export const IMPORTANCE_ROWS = 500;

/** |output - p| in probability, where output = base + Σ contributions (through the sigmoid in log-odds). */
export function additivityGap(space: Explainer["space"], explanation: Explanation, p: number): number {
  return Math.abs(explainedProbability(space, explanation) - p);
}

/** min(n, rows) distinct training-row indices in the order drawn, so any prefix is a random sample too. */
export function drawBackground(rows: number, n: number, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  rng.shuffle(order);
  return order.slice(0, Math.min(n, rows));
}
