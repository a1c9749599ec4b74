/**
 * Streams a CSV into typed columns, applying each column's missing-cell policy and collecting every
 * problem (with counts and example rows) instead of stopping at the first. Numeric cells under the
 * median policy stay NaN: the median must come from the training split only, which is not known yet.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream";
import { CsvError, parse, type Info, type Parser } from "csv-parse";
import { normalizeCategory } from "../../worker/contract/category-value";
import { DataError } from "./data-error";
import { IssueTally, ROW_NUMBERING, type ColumnReport, type DataReport } from "./data-report";
import { planColumns, type DatasetSchema, type PlannedColumn } from "./plan-columns";
import { resolveClasses } from "./resolve-classes";

export type { DatasetSchema } from "./plan-columns";

/** Feature columns, one entry per row. Missing: NaN (numeric), "" (categorical). */
export interface RawColumns {
  numeric: Record<string, Float64Array>;
  categorical: Record<string, string[]>;
}

export interface RawDataset extends RawColumns {
  /** 1 for the positive class. */
  y: Uint8Array;
  /** File row of each kept row (see ROW_NUMBERING). */
  rowNumbers: Int32Array;
  /** [negative, positive], as spelt in the file. */
  classes: [string, string];
  /** Numeric columns whose missing cells were filled with a constant: serving must impute the same. */
  imputeConstants: Record<string, number>;
  /** sha256 of the bytes parsed. */
  sha256: string;
  report: DataReport;
}

export type CsvSource = { path: string } | { text: string; name?: string };

export interface LoadProgress {
  rows: number;
  bytes: number;
  /** Known for files. */
  totalBytes?: number;
}

export interface LoadCsvOptions {
  onProgress?: (progress: LoadProgress) => void;
  /** Rows between progress calls. */
  progressEvery?: number;
}

/** Plain decimal numbers only: Number() would also accept "0x1F", "Infinity" and "" (as 0). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

interface ColumnState {
  plan: PlannedColumn;
  blank: IssueTally;
  naValue: IssueTally;
  nonNumeric: IssueTally;
  outOfRange: IssueTally;
  undeclared: IssueTally;
  values: (number | string)[];
}

export async function loadCsv(source: CsvSource, schema: DatasetSchema, options: LoadCsvOptions = {}): Promise<RawDataset> {
  const name = "path" in source ? source.path : (source.name ?? "<csv text>");
  const { parser, hash, totalBytes } = await openParser(source, name);
  const every = options.progressEvery ?? 10_000;

  let states: ColumnState[] | undefined;
  let targetIndex = -1;
  let ignored: string[] = [];
  const targetTallies = new Map<string, IssueTally>();
  const targetCodeOf = new Map<string, number>();
  const targetCodes: number[] = [];
  const rowNumbers: number[] = [];
  const duplicates = new IssueTally();
  const seenRecords = new Set<string>();
  const dropDuplicates = schema.data.duplicates === "drop";
  const naValues = new Set(schema.data.na_values);
  let rowsRead = 0;
  let droppedMissing = 0;
  let bytes = 0;

  const onRecord = (record: string[], info: Info): void => {
    bytes = info.bytes;
    if (!states) {
      const plan = planColumns(record, schema, name);
      states = plan.columns.map((p) => ({
        plan: p,
        blank: new IssueTally(),
        naValue: new IssueTally(),
        nonNumeric: new IssueTally(),
        outOfRange: new IssueTally(),
        undeclared: new IssueTally(),
        values: [],
      }));
      targetIndex = plan.targetIndex;
      ignored = plan.ignored;
      return;
    }
    rowsRead++;
    if (options.onProgress && rowsRead % every === 0) options.onProgress({ rows: rowsRead, bytes, totalBytes });
    const row = info.lines - countLineBreaks(record);

    const key = record.join("\u0000");
    if (seenRecords.has(key)) {
      duplicates.add(row);
      if (dropDuplicates) return;
    } else seenRecords.add(key);

    const target = record[targetIndex]!.trim();
    let tally = targetTallies.get(target);
    if (!tally) {
      targetTallies.set(target, (tally = new IssueTally()));
      targetCodeOf.set(target, targetCodeOf.size);
    }
    tally.add(row);

    let drop = false;
    const cells = states.map((state) => {
      const cell = readCell(state, record[state.plan.index]!, row, naValues);
      if (cell === DROP) drop = true;
      return cell;
    });
    if (drop) {
      droppedMissing++;
      return;
    }
    for (let c = 0; c < states.length; c++) states[c]!.values.push(cells[c] as number | string);
    targetCodes.push(targetCodeOf.get(target)!);
    rowNumbers.push(row);
  };
  try {
    await consume(parser, onRecord);
  } catch (err) {
    if (err instanceof CsvError) throw new DataError(`${name}: ${err.message}`);
    throw err;
  }
  if (!states) throw new DataError(`${name} is empty: no header row`);
  if (rowsRead === 0) throw new DataError(`${name} has a header but no data rows`);
  if (rowsRead % every !== 0) options.onProgress?.({ rows: rowsRead, bytes, totalBytes });

  const { target_column: targetColumn } = schema.data;
  const classes = resolveClasses(targetColumn, String(schema.data.positive_class).trim(), targetTallies);
  const issues = [...classes.issues];
  for (const s of states)
    if (s.plan.policy === "error" && missingCount(s) > 0) issues.push(describeMissing(s, "with missing: error"));
  if (issues.length) throw DataError.fromIssues(name, issues);
  if (rowNumbers.length === 0)
    throw DataError.fromIssues(name, [
      `every row was dropped (${droppedMissing} for missing cells, ${duplicates.count} duplicates)`,
      ...states.filter((s) => missingCount(s) > 0).map((s) => describeMissing(s, `with missing: ${s.plan.policy}`)),
    ]);

  const positiveCode = targetCodeOf.get(classes.positive);
  const y = Uint8Array.from(targetCodes, (code) => (code === positiveCode ? 1 : 0));
  const raw: RawColumns = { numeric: {}, categorical: {} };
  const imputeConstants: Record<string, number> = {};
  for (const s of states) {
    if (s.plan.kind === "numeric") {
      raw.numeric[s.plan.name] = Float64Array.from(s.values as number[]);
      if (typeof s.plan.constant === "number") imputeConstants[s.plan.name] = s.plan.constant;
    } else raw.categorical[s.plan.name] = s.values as string[];
  }
  const positives = y.reduce((n, v) => n + v, 0);
  const report: DataReport = {
    source: name,
    row_numbering: ROW_NUMBERING,
    rows_read: rowsRead,
    rows_kept: y.length,
    dropped: { duplicates: dropDuplicates ? duplicates.count : 0, missing: droppedMissing },
    duplicates: { ...duplicates.sample(), action: schema.data.duplicates },
    target: {
      column: targetColumn,
      negative: classes.negative,
      positive: classes.positive,
      counts: { [classes.negative]: y.length - positives, [classes.positive]: positives },
    },
    columns: Object.fromEntries(states.map((s) => [s.plan.name, columnReport(s)])),
    ignored_columns: ignored,
    warnings: warnings(states, duplicates, schema.data.duplicates),
  };
  return {
    ...raw,
    y,
    rowNumbers: Int32Array.from(rowNumbers),
    classes: [classes.negative, classes.positive],
    imputeConstants,
    sha256: hash.digest("hex"),
    report,
  };
}

const DROP = Symbol("drop");

/** The cell's value after coercion and policy, or DROP; tallies any problem. */
function readCell(state: ColumnState, cell: string, row: number, naValues: ReadonlySet<string>): number | string | typeof DROP {
  const { plan } = state;
  // Categories follow the rule the Worker applies to requests, so a value trains as it will serve.
  const text = plan.kind === "categorical" ? normalizeCategory(cell) : cell.trim();
  let value: number | string | undefined;
  if (text === "") state.blank.add(row);
  else if (naValues.has(text)) state.naValue.add(row, text);
  else if (plan.kind === "categorical") {
    value = text;
    if (plan.spec.values && !plan.spec.values.includes(text)) state.undeclared.add(row, text);
  } else if (!DECIMAL.test(text)) state.nonNumeric.add(row, text);
  else {
    value = Number(text);
    const { min, max, integer } = plan.spec;
    if ((min !== undefined && value < min) || (max !== undefined && value > max) || (integer && !Number.isInteger(value)))
      state.outOfRange.add(row, text);
  }
  if (value !== undefined) return value;
  if (plan.constant !== undefined) return plan.constant;
  if (plan.policy === "drop") return DROP;
  // median: imputed after the split; error: reported once the whole file is read.
  return plan.kind === "numeric" ? Number.NaN : "";
}

async function openParser(source: CsvSource, name: string) {
  const hash = createHash("sha256");
  const parser = parse({ bom: true, info: true, skip_empty_lines: true });
  if ("text" in source) {
    hash.update(source.text, "utf8");
    parser.end(source.text);
    return { parser, hash, totalBytes: undefined };
  }
  let totalBytes: number;
  try {
    totalBytes = (await stat(source.path)).size;
  } catch {
    throw new DataError(`training data not found: ${name}`);
  }
  const file = createReadStream(source.path);
  file.on("data", (chunk) => hash.update(chunk as Buffer));
  // pipeline forwards a read error into the parser, so the consuming loop sees it.
  pipeline(file, parser, () => {});
  return { parser, hash, totalBytes };
}

/**
 * Drains buffered records synchronously on each "readable" event: several times faster than
 * `for await` over an object stream, which costs a promise per record.
 */
function consume(parser: Parser, onRecord: (record: string[], info: Info) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    parser.on("readable", () => {
      try {
        let item: { record: string[]; info: Info } | null;
        while ((item = parser.read()) !== null) onRecord(item.record, item.info);
      } catch (err) {
        reject(err);
        parser.destroy();
      }
    });
    parser.on("end", resolve);
    parser.on("error", reject);
  });
}

/** A quoted field may span lines; csv-parse reports the line a record ends on. */
function countLineBreaks(record: string[]): number {
  let n = 0;
  for (const field of record) for (let i = field.indexOf("\n"); i !== -1; i = field.indexOf("\n", i + 1)) n++;
  return n;
}

/** Cells the missing policy handles: blank, a data.na_values marker, or (numeric) not a number. */
function missingCount(s: ColumnState): number {
  return s.blank.count + s.naValue.count + s.nonNumeric.count;
}

function describeMissing(s: ColumnState, policy: string): string {
  const parts = [];
  if (s.blank.count) parts.push(`blank in ${s.blank.describe()}`);
  if (s.naValue.count) parts.push(`marked missing in ${s.naValue.describe()}`);
  if (s.nonNumeric.count) parts.push(`not a number in ${s.nonNumeric.describe()}`);
  return `${s.plan.name} (${policy}): ${parts.join("; ")}`;
}

function columnReport(s: ColumnState): ColumnReport {
  const report: ColumnReport = {
    kind: s.plan.kind,
    missing_policy: s.plan.policy,
    blank: s.blank.sample(),
    na_values: s.naValue.valueSample(),
  };
  if (s.plan.kind === "numeric") {
    report.non_numeric = s.nonNumeric.valueSample();
    report.out_of_range = s.outOfRange.valueSample();
  } else if (s.plan.spec.values) report.undeclared = s.undeclared.valueSample();
  return report;
}

function warnings(states: ColumnState[], duplicates: IssueTally, action: "keep" | "drop"): string[] {
  const out: string[] = [];
  const effect = (p: PlannedColumn) =>
    p.constant !== undefined
      ? `filled with ${JSON.stringify(p.constant)}`
      : p.policy === "drop"
        ? "rows dropped"
        : "imputed with the training median";
  for (const s of states) {
    const { name, spec } = s.plan;
    if (s.blank.count) out.push(`${name}: blank in ${s.blank.describe()}; ${effect(s.plan)}`);
    if (s.naValue.count) out.push(`${name}: marked missing (data.na_values) in ${s.naValue.describe()}; ${effect(s.plan)}`);
    if (s.nonNumeric.count) out.push(`${name}: not a number in ${s.nonNumeric.describe()}; ${effect(s.plan)}`);
    if (s.outOfRange.count) {
      const limits = [spec.min !== undefined && `min ${spec.min}`, spec.max !== undefined && `max ${spec.max}`, spec.integer && "integer"];
      out.push(`${name}: outside the serving constraints (${limits.filter(Boolean).join(", ")}) in ${s.outOfRange.describe()}`);
    }
    if (s.undeclared.count) out.push(`${name}: not among the declared values in ${s.undeclared.describe()}`);
  }
  if (duplicates.count) out.push(`duplicate rows: ${duplicates.describe()}; ${action === "drop" ? "dropped" : "kept"}`);
  return out;
}
