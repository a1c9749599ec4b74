/**
 * ROC curve points with scikit-learn's roc_curve semantics (>= 1.3): one point per distinct score,
 * a leading (0, 0) point at threshold +Infinity, and optionally collinear points dropped.
 * JSON.stringify writes that leading Infinity as null.
 */
import { binaryClfCurve } from "./binary-clf-curve";
import { checkScores, requireBothClasses } from "./inputs";

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Descending; point i counts rows with score >= thresholds[i]. */
  thresholds: number[];
}

export interface RocCurveOptions {
  /** Drop points collinear with their neighbours; they never change the plotted curve or its area. */
  dropIntermediate?: boolean;
}

export function rocCurve(y: Uint8Array, p: Float64Array, options: RocCurveOptions = {}): RocCurve {
  const { dropIntermediate = true } = options;
  checkScores(y, p);
  const { positives, negatives } = requireBothClasses(y, "ROC curve");
  let { fps, tps, thresholds } = binaryClfCurve(y, p);
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [];
    const last = fps.length - 1;
    for (let i = 0; i <= last; i++) {
      const corner =
        i === 0 ||
        i === last ||
        fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 ||
        tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0;
      if (corner) keep.push(i);
    }
    fps = keep.map((i) => fps[i]!);
    tps = keep.map((i) => tps[i]!);
    thresholds = keep.map((i) => thresholds[i]!);
  }
  return {
    fpr: [0, ...fps.map((f) => f / negatives)],
    tpr: [0, ...tps.map((t) => t / positives)],
    thresholds: [Number.POSITIVE_INFINITY, ...thresholds],
  };
}
