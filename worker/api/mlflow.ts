/**
 * MLflow's scoring protocol, so MLflow clients work unchanged:
 *   POST /invocations, POST /models/:name/invocations
 * with exactly one of dataframe_split, dataframe_records, instances or inputs; answers {"predictions": [...]}.
 * ?explain=k or ?explain=all adds each prediction's `explanation`, as on /predict.
 */
import { type Context, Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import { assertBatchSize, type FieldPath } from "../scoring/predict-rows";
import { labelled } from "./prediction-response";
import { servePrediction } from "./serve-prediction";
import { parseExplainQuery } from "../scoring/explanations";
import { versionRef } from "../registry/version-ref";

export const mlflowRoutes = new Hono<AppEnv>();

mlflowRoutes.post("/invocations", (c) => invoke(c, c.get("services").settings.defaultModel));
mlflowRoutes.post("/models/:name/invocations", (c) => invoke(c, c.req.param("name")));

const FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

async function invoke(c: Context<AppEnv>, name: string) {
  const services = c.get("services");
  const ref = versionRef({ alias: c.req.query("alias") }, services.settings.defaultAlias);
  const explain = parseExplainQuery(c.req.query("explain"));
  const body = await readJsonBody(c);
  const { rows, path } = toRecords(body, services.settings.maxBatchRows);
  const { result, tokens } = await servePrediction(c, { name, ref, rows, path, ...(explain ? { explain } : {}) });
  const label = result.manifest.output.label;
  return c.json({ predictions: result.predictions.map((p, i) => labelled(label, p, tokens?.[i], result.explanations?.[i])) });
}

function invalid(field: string, message: string): ApiError {
  return new ApiError("VALIDATION_FAILED", `${field}: ${message}`, { issues: [{ field, message }] });
}

/**
 * The body's rows in record form. The batch size is checked against `maxRows` on the body's own
 * arrays before any row object is built (dataframe_split and column inputs build one per row).
 */
export function toRecords(body: unknown, maxRows: number): { rows: unknown[]; path: FieldPath } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("body", `expected an object with one of ${FORMATS.join(", ")}`);
  }
  const present = FORMATS.filter((f) => f in body);
  if (present.length !== 1) {
    throw invalid("body", present.length ? `only one of ${present.join(", ")} may be given` : `expected one of ${FORMATS.join(", ")}`);
  }
  const format = present[0]!;
  const value = (body as Record<string, unknown>)[format];
  const recordPath =
    (prefix: string): FieldPath =>
    (i, f) =>
      `${prefix}[${i}]${f ? `.${f}` : ""}`;

  if (format === "dataframe_split") return fromSplit(value, maxRows);
  if (format === "inputs" && typeof value === "object" && value !== null && !Array.isArray(value)) {
    return fromColumns(value as Record<string, unknown>, maxRows);
  }
  if (!Array.isArray(value)) throw invalid(format, "expected an array of records");
  assertBatchSize(value.length, maxRows, format);
  return { rows: value, path: recordPath(format) };
}

function fromSplit(value: unknown, maxRows: number): { rows: unknown[]; path: FieldPath } {
  if (typeof value !== "object" || value === null) throw invalid("dataframe_split", "expected {columns, data}");
  const { columns, data } = value as { columns?: unknown; data?: unknown };
  if (!Array.isArray(columns) || !columns.every((col) => typeof col === "string")) {
    throw invalid("dataframe_split.columns", "expected an array of column names");
  }
  if (!Array.isArray(data)) throw invalid("dataframe_split.data", "expected an array of rows");
  assertBatchSize(data.length, maxRows, "dataframe_split.data");
  const rows = data.map((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw invalid(`dataframe_split.data[${i}]`, `expected an array of ${columns.length} values`);
    }
    return Object.fromEntries(columns.map((col, j) => [col, row[j]]));
  });
  return {
    rows,
    path: (i, f) => {
      const j = f === undefined ? -1 : columns.indexOf(f);
      return `dataframe_split.data[${i}]${j >= 0 ? `[${j}] (${f})` : f ? ` (${f}: missing column)` : ""}`;
    },
  };
}

function fromColumns(columns: Record<string, unknown>, maxRows: number): { rows: unknown[]; path: FieldPath } {
  const names = Object.keys(columns);
  let longest = 0;
  for (const name of names) {
    const column = columns[name];
    if (Array.isArray(column)) longest = Math.max(longest, column.length);
  }
  assertBatchSize(longest, maxRows, "inputs");
  let length = -1;
  for (const name of names) {
    const column = columns[name];
    if (!Array.isArray(column)) throw invalid(`inputs.${name}`, "expected an array of values");
    if (length >= 0 && column.length !== length) throw invalid(`inputs.${name}`, `has ${column.length} values, others have ${length}`);
    length = column.length;
  }
  const rows = Array.from({ length: Math.max(length, 0) }, (_, i) =>
    Object.fromEntries(names.map((name) => [name, (columns[name] as unknown[])[i]])),
  );
  return { rows, path: (i, f) => (f ? `inputs.${f}[${i}]` : `inputs[${i}]`) };
}
