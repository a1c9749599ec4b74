/**
 * Input checks shared by the metric modules. Labels are 0/1 bytes; scores are float64. Metrics throw
 * a RangeError on bad input rather than returning NaN, because NaN silently becomes null in JSON.
 */

export function checkScores(y: Uint8Array, p: Float64Array): void {
  if (y.length !== p.length) throw new RangeError(`y has ${y.length} labels but p has ${p.length} scores`);
  if (y.length === 0) throw new RangeError("no rows to evaluate");
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`y[${i}] = ${y[i]} is not 0 or 1`);
    if (!Number.isFinite(p[i]!)) throw new RangeError(`p[${i}] = ${p[i]} is not finite`);
  }
}

export function checkProbabilities(y: Uint8Array, p: Float64Array): void {
  checkScores(y, p);
  for (let i = 0; i < p.length; i++)
    if (p[i]! < 0 || p[i]! > 1) throw new RangeError(`p[${i}] = ${p[i]} is outside [0, 1]`);
}

export function countPositives(y: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < y.length; i++) n += y[i]!;
  return n;
}

/** Ranking metrics are undefined when a class is absent (scikit-learn raises too). */
export function requireBothClasses(y: Uint8Array, metric: string): { positives: number; negatives: number } {
  const positives = countPositives(y);
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0)
    throw new RangeError(`${metric} needs both classes; got ${positives} positive and ${negatives} negative rows`);
  return { positives, negatives };
}
