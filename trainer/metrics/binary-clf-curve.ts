/**
 * Cumulative true/false positive counts at each distinct score, highest score first: the shared core
 * of the ROC and precision-recall curves (scikit-learn's `_binary_clf_curve`). Tied scores form one
 * operating point, which is how ties are handled everywhere downstream.
 */

export interface ClfCurveCounts {
  /** Rows with score >= thresholds[i] that are negative. */
  fps: number[];
  /** Rows with score >= thresholds[i] that are positive. */
  tps: number[];
  /** Distinct scores, descending. */
  thresholds: number[];
}

/** Row indices ordered by score descending. */
export function orderByScoreDescending(p: Float64Array): Uint32Array {
  const order = new Uint32Array(p.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => p[b]! - p[a]! || a - b);
}

export function binaryClfCurve(y: Uint8Array, p: Float64Array): ClfCurveCounts {
  const order = orderByScoreDescending(p);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (y[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || p[next] !== p[i]) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(p[i]!);
    }
  }
  return { fps, tps, thresholds };
}
