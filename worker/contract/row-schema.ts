/**
 * Builds the zod schema for one input row from a model version's manifest: the names, types,
 * ranges and closed category sets all come from there, never from per-model code.
 *
 * Numbers must fit in float32, the graph's input type: 1e39 is finite in JSON but Infinity in a
 * float32 tensor, where it turns a logistic model's output into NaN. Category values are normalised
 * by the trainer's own rule (normalizeCategory) before they are checked, so validation and the ONNX
 * feed both see the value the model was trained on.
 */
import { z } from "zod";
import { normalizeCategory } from "./category-value";
import type { FeatureSpec, Manifest } from "./manifest";

/** The largest float32, as JSON clients write it. */
const FLOAT32_MAX = "3.4028234663852886e38";

function numericSchema(spec: Extract<FeatureSpec, { kind: "numeric" }>) {
  let schema = z
    .number({
      error: (issue) => (issue.input === undefined ? "required" : `expected a number, got ${describe(issue.input)}`),
    })
    // First and aborting: a value outside float32 is refused for that reason alone.
    .refine((v) => Number.isFinite(Math.fround(v)), { error: `must fit in float32 (|x| <= ${FLOAT32_MAX})`, abort: true });
  if (spec.integer) schema = schema.int({ error: "expected an integer" });
  if (spec.min !== undefined) schema = schema.min(spec.min, { error: `must be >= ${spec.min}` });
  if (spec.max !== undefined) schema = schema.max(spec.max, { error: `must be <= ${spec.max}` });
  if (spec.description) schema = schema.describe(spec.description);
  return spec.nullable ? schema.nullable().optional() : schema;
}

const normalized = (value: unknown) => (typeof value === "string" ? normalizeCategory(value) : value);

function categoricalSchema(spec: Extract<FeatureSpec, { kind: "categorical" }>) {
  const allowed = spec.allowed ?? spec.categories;
  const checked = spec.closed
    ? z.enum(allowed as [string, ...string[]], {
        error: (issue) =>
          issue.input === undefined ? "required" : `must be one of: ${allowed.join(", ")} (got ${describe(issue.input)})`,
      })
    : z.string({
        error: (issue) => (issue.input === undefined ? "required" : `expected a string, got ${describe(issue.input)}`),
      });
  const schema = z.preprocess(normalized, checked);
  const described = spec.description ? schema.describe(spec.description) : schema;
  return spec.nullable ? described.nullable().optional() : described;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

export function buildRowSchema(manifest: Manifest) {
  const shape: Record<string, z.ZodType> = {};
  for (const spec of manifest.features) {
    shape[spec.name] = spec.kind === "numeric" ? numericSchema(spec) : categoricalSchema(spec);
  }
  return z.object(shape, { error: (issue) => `expected an object with the model's features, got ${describe(issue.input)}` });
}

export type RowSchema = ReturnType<typeof buildRowSchema>;

/** An example row for docs and OpenAPI: training medians and first categories, when stats are known. */
export function exampleRow(manifest: Manifest): Record<string, number | string> {
  const row: Record<string, number | string> = {};
  for (const spec of manifest.features) {
    if (spec.kind === "categorical") row[spec.name] = (spec.allowed ?? spec.categories)[0]!;
    else {
      const median = spec.stats?.median ?? spec.min ?? 0;
      row[spec.name] = spec.integer ? Math.round(median) : Math.round(median * 100) / 100;
    }
  }
  return row;
}
