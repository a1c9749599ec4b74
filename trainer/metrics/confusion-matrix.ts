/** Counts at a decision threshold; a row is positive when it reaches the threshold by the worker's rule. */
import { reaches } from "../../worker/contract/decision";
import { checkScores } from "./inputs";

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusionMatrix(y: Uint8Array, p: Float64Array, threshold: number): ConfusionMatrix {
  checkScores(y, p);
  const counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < y.length; i++) {
    const predicted = reaches(p[i]!, threshold);
    if (y[i] === 1) predicted ? counts.tp++ : counts.fn++;
    else predicted ? counts.fp++ : counts.tn++;
  }
  return counts;
}
