/**
 * Mean binary cross-entropy (natural log) as scikit-learn >= 1.5 computes it: the probability given
 * to the true class is clipped to [eps, 1 - eps] with eps = float64 machine epsilon, so a confident
 * miss costs -ln(2^-52) ~ 36.04 instead of Infinity. Older scikit-learn clipped p and renormalised;
 * the two differ by about 1e-16.
 */
import { checkProbabilities } from "./inputs";

export const LOG_LOSS_EPS = Number.EPSILON;

export function logLoss(y: Uint8Array, p: Float64Array): number {
  checkProbabilities(y, p);
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const trueClassProbability = y[i] === 1 ? p[i]! : 1 - p[i]!;
    sum -= Math.log(Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, trueClassProbability)));
  }
  return sum / y.length;
}
