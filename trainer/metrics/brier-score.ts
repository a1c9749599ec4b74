/** Mean squared difference between the predicted probability and the 0/1 outcome (scikit-learn's brier_score_loss). */
import { checkProbabilities } from "./inputs";

export function brierScore(y: Uint8Array, p: Float64Array): number {
  checkProbabilities(y, p);
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (p[i]! - y[i]!) ** 2;
  return sum / y.length;
}
