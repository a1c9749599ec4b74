/** Numeric closeness with the tolerance always stated at the call site (no default to drift apart). */
import { expect } from "vitest";

/** |actual - expected| <= tolerance, with the numbers in the failure message; null always fails. */
export function expectClose(actual: number | null, expected: number, tolerance: number, label = ""): void {
  expect(actual, `${label} is null, expected ${expected}`).not.toBeNull();
  const diff = Math.abs(actual! - expected);
  expect(diff <= tolerance, `${label} ${actual} vs ${expected} (|diff| ${diff} > ${tolerance})`).toBe(true);
}

/** expectClose element by element, after the lengths are equal. */
export function expectAllClose(actual: readonly number[], expected: readonly number[], tolerance: number, label = ""): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  actual.forEach((a, i) => expectClose(a, expected[i]!, tolerance, `${label}[${i}]`));
}
