/**
 * Reliability table with scikit-learn's calibration_curve(strategy="uniform") binning: edges
 * i / nBins computed as numpy.linspace does, bin = number of inner edges strictly below p, so each
 * bin is (lower, upper] except the first, which also holds 0. Only non-empty bins are listed.
 * Expected calibration error weights each bin's |observed - predicted| gap by its share of rows.
 */
import { checkProbabilities } from "./inputs";

export interface CalibrationBin {
  /** Index among all nBins bins, empty ones included. */
  bin: number;
  lower: number;
  upper: number;
  count: number;
  mean_predicted: number;
  observed_rate: number;
}

export interface CalibrationTable {
  n_bins: number;
  bins: CalibrationBin[];
  /** Expected calibration error: sum over bins of count / n * |observed_rate - mean_predicted|. */
  ece: number;
  /** Maximum calibration error: the largest such gap over non-empty bins. */
  mce: number;
}

export function uniformBinEdges(nBins: number): number[] {
  const step = 1 / nBins;
  return Array.from({ length: nBins + 1 }, (_, i) => (i === nBins ? 1 : i * step));
}

export function calibrationTable(y: Uint8Array, p: Float64Array, nBins = 10): CalibrationTable {
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`nBins must be a positive integer, got ${nBins}`);
  checkProbabilities(y, p);
  const edges = uniformBinEdges(nBins);
  const count = new Float64Array(nBins);
  const sumPredicted = new Float64Array(nBins);
  const positives = new Float64Array(nBins);
  for (let i = 0; i < p.length; i++) {
    const b = countInnerEdgesBelow(edges, p[i]!);
    count[b]!++;
    sumPredicted[b]! += p[i]!;
    positives[b]! += y[i]!;
  }
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < nBins; b++) {
    if (count[b] === 0) continue;
    const meanPredicted = sumPredicted[b]! / count[b]!;
    const observed = positives[b]! / count[b]!;
    const gap = Math.abs(observed - meanPredicted);
    ece += (count[b]! / p.length) * gap;
    mce = Math.max(mce, gap);
    bins.push({ bin: b, lower: edges[b]!, upper: edges[b + 1]!, count: count[b]!, mean_predicted: meanPredicted, observed_rate: observed });
  }
  return { n_bins: nBins, bins, ece, mce };
}

/** numpy.searchsorted(edges[1:-1], v, side="left"). */
function countInnerEdgesBelow(edges: number[], v: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid + 1]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
