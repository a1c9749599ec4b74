/**
 * Decides the two target classes from what the file holds. The positive class is declared in config;
 * the negative class is the single other value observed. When more values appear, the declared
 * class's usual partner (1/0, Yes/No, true/false) or else the most frequent other value is taken as
 * the negative class, and the rest are reported with their rows, so the message points at the bad
 * rows rather than at an ambiguous pair.
 */
import type { IssueTally } from "./data-report";

const PARTNERS: Record<string, string> = { "1": "0", yes: "no", true: "false", y: "n", t: "f", positive: "negative" };

export interface ResolvedClasses {
  negative: string;
  positive: string;
  /** Empty when the target is clean. */
  issues: string[];
}

/** `tallies`: each distinct trimmed target value with the rows holding it, in first-seen order. */
export function resolveClasses(column: string, positive: string, tallies: Map<string, IssueTally>): ResolvedClasses {
  const seen = [...tallies.keys()];
  const listing = () => seen.map((v) => `${JSON.stringify(v)} (${tallies.get(v)!.count})`).join(", ");
  if (!tallies.has(positive))
    return {
      negative: "",
      positive,
      issues: [`target ${column}: the positive class ${JSON.stringify(positive)} never appears; values found: ${listing()}`],
    };
  // A blank target is never a class, however many rows have it.
  const others = seen.filter((v) => v !== positive && v !== "");
  if (others.length === 0)
    return { negative: "", positive, issues: [`target ${column}: only one class found; values found: ${listing()}`] };

  const partner = PARTNERS[positive.toLowerCase()];
  const byPartner = partner === undefined ? undefined : others.find((v) => v.toLowerCase() === partner);
  const negative = byPartner ?? others.reduce((best, v) => (tallies.get(v)!.count > tallies.get(best)!.count ? v : best));

  const issues = seen
    .filter((v) => v !== positive && v !== negative)
    .map(
      (v) =>
        `target ${column}: value ${v === "" ? "(blank)" : JSON.stringify(v)} is neither class ` +
        `(positive ${JSON.stringify(positive)}, negative ${JSON.stringify(negative)}) in ${tallies.get(v)!.describe()}`,
    );
  return { negative, positive, issues };
}
