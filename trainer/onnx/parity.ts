/**
 * Parity between the trainer's own predictions and the exported ONNX file run in ORT: the
 * training run stops if they disagree, because serving would then not be the model evaluated.
 */
import type { FeatureRow, FeatureSpec } from "../../worker/contract/manifest";
import { createSession, runRows } from "./node-runtime";

export interface ParityInput {
  onnx: Uint8Array;
  features: readonly FeatureSpec[];
  rows: readonly FeatureRow[];
  /** The trainer's p per row. */
  expected: Float64Array;
  tolerance?: number;
}

export interface ParityReport {
  rows: number;
  maxAbsDiff: number;
  /** Index of the row with the largest difference, -1 when there are no rows. */
  worstRow: number;
  /** ORT's and the trainer's p at worstRow. */
  worst: { onnx: number; expected: number } | null;
  tolerance: number;
  ok: boolean;
}

export class ParityError extends Error {
  /** `reference` names where the expected probabilities came from: the trainer, or XGBoost for an import. */
  constructor(readonly report: ParityReport, readonly row: FeatureRow | undefined, reference = "trainer") {
    const w = report.worst!;
    super(
      `ONNX parity failed: max |p_onnx - p_${reference}| = ${report.maxAbsDiff.toExponential(3)} > ${report.tolerance} ` +
        `at row ${report.worstRow} of ${report.rows} (onnx ${w.onnx}, ${reference} ${w.expected}); ` +
        `input ${JSON.stringify(row)}`,
    );
    this.name = "ParityError";
  }
}

export async function checkParity(input: ParityInput): Promise<ParityReport> {
  const { rows, expected, tolerance = 1e-5 } = input;
  if (expected.length !== rows.length)
    throw new Error(`parity: ${rows.length} rows but ${expected.length} expected probabilities`);
  const session = await createSession(input.onnx);
  let actual: Float32Array;
  try {
    actual = await runRows(session, input.features, rows);
  } finally {
    await session.release();
  }
  let maxAbsDiff = 0;
  let worstRow = -1;
  for (let i = 0; i < rows.length; i++) {
    // A NaN on either side is a failure, never a silently small difference.
    const diff = Math.abs(actual[i]! - expected[i]!);
    const d = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
    if (worstRow < 0 || d > maxAbsDiff) {
      maxAbsDiff = d;
      worstRow = i;
    }
  }
  const worst = worstRow < 0 ? null : { onnx: actual[worstRow]!, expected: expected[worstRow]! };
  return { rows: rows.length, maxAbsDiff, worstRow, worst, tolerance, ok: maxAbsDiff <= tolerance };
}

/** checkParity that throws ParityError (naming the worst row and its input) when it fails. */
export async function assertParity(input: ParityInput): Promise<ParityReport> {
  const report = await checkParity(input);
  if (!report.ok) throw new ParityError(report, input.rows[report.worstRow]);
  return report;
}
