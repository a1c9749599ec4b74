/**
 * What loading found in the training file, kept as plain JSON: it is printed by the CLI and stored
 * in the manifest (`data.issues`), so a model always carries the story of the data it saw.
 */
import type { MissingPolicy } from "../config";

export const ROW_NUMBERING = "rows are 1-based file lines: the header is row 1, so the first data row is row 2";
const MAX_EXAMPLES = 5;

/** A count plus the first few row numbers where it happened. */
export interface IssueSample {
  count: number;
  rows: number[];
}

/** An IssueSample that also keeps the first few distinct offending values. */
export interface ValueIssueSample extends IssueSample {
  values: string[];
}

export interface ColumnReport {
  kind: "numeric" | "categorical";
  missing_policy: MissingPolicy;
  /** Empty or whitespace-only cells. */
  blank: IssueSample;
  /** Cells equal (after trimming) to one of data.na_values, such as "NA": missing, like blanks. */
  na_values: ValueIssueSample;
  /** Numeric columns: cells that are not a finite decimal number; handled by the missing policy. */
  non_numeric?: ValueIssueSample;
  /** Numeric columns: values the serving constraints (min, max, integer) would reject. */
  out_of_range?: ValueIssueSample;
  /** Categorical columns with declared `values`: values outside that list. */
  undeclared?: ValueIssueSample;
}

/** A type alias, not an interface, so it is assignable to the manifest's `Record<string, unknown>`. */
export type DataReport = {
  source: string;
  row_numbering: string;
  rows_read: number;
  rows_kept: number;
  dropped: { duplicates: number; missing: number };
  /** Rows identical (every cell, every column) to an earlier row. */
  duplicates: IssueSample & { action: "keep" | "drop" };
  target: { column: string; negative: string; positive: string; counts: Record<string, number> };
  columns: Record<string, ColumnReport>;
  /** File columns that are neither a feature nor the target. */
  ignored_columns: string[];
  /** One human-readable line per non-fatal problem, for the CLI. */
  warnings: string[];
};

/** Accumulates an IssueSample, optionally with distinct example values. */
export class IssueTally {
  count = 0;
  readonly rows: number[] = [];
  readonly values: string[] = [];

  add(row: number, value?: string): void {
    this.count++;
    if (this.rows.length < MAX_EXAMPLES) this.rows.push(row);
    if (value !== undefined && this.values.length < MAX_EXAMPLES && !this.values.includes(value))
      this.values.push(value);
  }

  sample(): IssueSample {
    return { count: this.count, rows: [...this.rows] };
  }

  valueSample(): ValueIssueSample {
    return { count: this.count, rows: [...this.rows], values: [...this.values] };
  }

  /** "3 rows (e.g. rows 4, 9, 12)", with values when kept. */
  describe(): string {
    const rows = `${this.count} row${this.count === 1 ? "" : "s"} (${this.count > this.rows.length ? "e.g. " : ""}row${this.rows.length === 1 ? "" : "s"} ${this.rows.join(", ")})`;
    return this.values.length ? `${rows}, values ${this.values.map((v) => JSON.stringify(v)).join(", ")}` : rows;
  }
}
