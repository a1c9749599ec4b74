/**
 * One feature column while a CSV loads: each cell coerced under the column's rules (the category
 * rule, decimal numbers only, data.na_values, the missing policy), stored in a growing typed array
 * or an interned string list, and every problem tallied for the data report.
 */
import { normalizeCategory } from "../../worker/contract/category-value";
import { IssueTally } from "./data-report";
import type { PlannedColumn } from "./plan-columns";

/** Plain decimal numbers only: Number() would also accept "0x1F", "Infinity" and "" (as 0). */
export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface ColumnState {
  plan: PlannedColumn;
  blank: IssueTally;
  naValue: IssueTally;
  nonNumeric: IssueTally;
  outOfRange: IssueTally;
  undeclared: IssueTally;
  /** Numeric columns: values of the kept rows so far (grown by doubling). */
  numbers: Float64Array;
  /** Categorical columns: values of the kept rows, each spelling stored once (interned). */
  strings: string[];
  interned: Map<string, string>;
  markers: MissingMarkers;
  /** Declared values, as a set for the per-cell check. */
  declared?: Set<string>;
}

/** data.na_values as the cell readers use them. */
export interface MissingMarkers {
  set: ReadonlySet<string>;
  /** Whether any marker reads as a decimal number (say "-999"): only then is decimal text checked. */
  decimal: boolean;
}

export function missingMarkers(naValues: readonly string[]): MissingMarkers {
  return { set: new Set(naValues), decimal: naValues.some((v) => DECIMAL.test(v)) };
}

export function newColumnState(plan: PlannedColumn, markers: MissingMarkers): ColumnState {
  return {
    plan,
    blank: new IssueTally(),
    naValue: new IssueTally(),
    nonNumeric: new IssueTally(),
    outOfRange: new IssueTally(),
    undeclared: new IssueTally(),
    numbers: new Float64Array(plan.kind === "numeric" ? 1024 : 0),
    strings: [],
    interned: new Map(),
    markers,
    ...(plan.spec.values && { declared: new Set(plan.spec.values) }),
  };
}

/**
 * Stores the cell's value (after coercion and policy) at `slot` of its column and tallies any
 * problem; false when the policy drops the row.
 */
export function readCell(state: ColumnState, cell: string, row: number, slot: number): boolean {
  return state.plan.kind === "categorical" ? readCategory(state, cell, row, slot) : readNumber(state, cell, row, slot);
}

function readCategory(state: ColumnState, cell: string, row: number, slot: number): boolean {
  // Categories follow the rule the Worker applies to requests, so a value trains as it will serve.
  const text = normalizeCategory(cell);
  // A column holds few distinct values: one map lookup finds a value already seen (and known not
  // to be a missing marker), so the marker set is consulted once per distinct value.
  let value = state.interned.get(text);
  if (value === undefined) {
    if (text === "") state.blank.add(row);
    else if (state.markers.set.has(text)) state.naValue.add(row, text);
    else state.interned.set(text, (value = text));
  }
  if (value === undefined) return fillMissing(state, slot);
  if (state.declared && !state.declared.has(value)) state.undeclared.add(row, value);
  state.strings[slot] = value;
  return true;
}

function readNumber(state: ColumnState, cell: string, row: number, slot: number): boolean {
  const text = cell.trim();
  // Decimal text is checked against the markers only when a marker is itself decimal (say "-999").
  if (DECIMAL.test(text) && !(state.markers.decimal && state.markers.set.has(text))) {
    const value = Number(text);
    const { min, max, integer } = state.plan.spec;
    if ((min !== undefined && value < min) || (max !== undefined && value > max) || (integer && !Number.isInteger(value)))
      state.outOfRange.add(row, text);
    storeNumber(state, slot, value);
    return true;
  }
  if (text === "") state.blank.add(row);
  else if (state.markers.set.has(text)) state.naValue.add(row, text);
  else state.nonNumeric.add(row, text);
  return fillMissing(state, slot);
}

/** A missing cell: a constant fills it, median leaves NaN for after the split, error leaves a
 * placeholder and is reported once the whole file is read; false for drop. */
function fillMissing(state: ColumnState, slot: number): boolean {
  const { plan } = state;
  if (plan.constant === undefined && plan.policy === "drop") return false;
  if (plan.kind === "categorical") state.strings[slot] = plan.constant === undefined ? "" : (plan.constant as string);
  else storeNumber(state, slot, plan.constant === undefined ? Number.NaN : (plan.constant as number));
  return true;
}

function storeNumber(state: ColumnState, slot: number, value: number): void {
  if (slot === state.numbers.length) state.numbers = grow(state.numbers);
  state.numbers[slot] = value;
}

export function grow<T extends Float64Array | Int32Array | Uint8Array>(array: T): T {
  const bigger = new (array.constructor as new (n: number) => T)(Math.max(1024, array.length * 2));
  bigger.set(array);
  return bigger;
}

/** Cells the missing policy handles: blank, a data.na_values marker, or (numeric) not a number. */
export function missingCount(s: ColumnState): number {
  return s.blank.count + s.naValue.count + s.nonNumeric.count;
}
