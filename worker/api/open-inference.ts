/**
 * Open Inference Protocol v2 (KServe / Triton / Seldon REST), on the same manifest-driven path.
 * Each model feature is one input tensor of shape [N] or [N,1]; errors are `{"error": "..."}` and
 * every client error but 404 and 413 is a 400 (see app.ts), as KServe and Triton answer.
 */
import { type Context, Hono } from "hono";
import type { Manifest } from "../contract/manifest";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import { compileVersion, getSession } from "../inference/model-cache";
import { tokensOffReason } from "../feedback/prediction-token";
import { servePrediction } from "./serve-prediction";
import type { RowExplanation } from "../scoring/explanations";
import { assertBatchSize } from "../scoring/predict-rows";
import { versionRef } from "../registry/version-ref";
import { resolveVersion } from "../registry/versions";

export const openInferenceRoutes = new Hono<AppEnv>();
const SERVER = { name: "edge-mlops", version: "0.1.0", extensions: [] as string[] };

openInferenceRoutes.get("/v2", (c) => c.json(SERVER));
openInferenceRoutes.get("/v2/health/live", (c) => c.json({ live: true }));
openInferenceRoutes.get("/v2/health/ready", async (c) => {
  await c.get("services").db.$client.prepare("SELECT 1").first();
  return c.json({ ready: true });
});

for (const base of ["/v2/models/:name", "/v2/models/:name/versions/:version"]) {
  openInferenceRoutes.get(base, async (c) => {
    const { row } = await resolve(c);
    return c.json(metadata(compileVersion(row).manifest, row.version, tokensOffReason(c.env) === null));
  });
  openInferenceRoutes.get(`${base}/ready`, async (c) => {
    const { row } = await resolve(c);
    const { models, settings } = c.get("services");
    // Readiness of a version asked for by number loads it among the ad-hoc sessions, like its predictions.
    const pinned = c.req.param("version") === undefined;
    await getSession(models, row, { backoffMs: settings.backoffMs, maxCachedSessions: settings.maxCachedSessions, pinned });
    return c.json({ name: row.modelName, version: String(row.version), ready: true });
  });
  openInferenceRoutes.post(`${base}/infer`, infer);
}

function resolve(c: Context<AppEnv>) {
  const { db, settings } = c.get("services");
  const ref = versionRef({ version: c.req.param("version"), alias: c.req.query("alias") }, settings.defaultAlias);
  return resolveVersion(db, c.req.param("name")!, ref);
}

/** `tokens`: PREDICTION_TOKEN_SECRET is configured, so infer also answers a prediction_token per row (for POST /feedback). */
function metadata(manifest: Manifest, version: number, tokens: boolean) {
  const label = manifest.output.label;
  return {
    name: manifest.name,
    versions: [String(version)],
    platform: "onnxruntime-web",
    inputs: manifest.features.map((f) => ({ name: f.name, datatype: f.kind === "numeric" ? "FP32" : "BYTES", shape: [-1, 1] })),
    outputs: [
      { name: manifest.onnx.output, datatype: "FP32", shape: [-1, 2] },
      { name: `${label}_probability`, datatype: "FP32", shape: [-1] },
      { name: `${label}_prediction`, datatype: "BOOL", shape: [-1] },
      { name: "risk_tier", datatype: "BYTES", shape: [-1] },
      ...(tokens ? [{ name: "prediction_token", datatype: "BYTES", shape: [-1] }] : []),
      // Only when asked for by name in `outputs` (they cost an explanation per row).
      ...(manifest.explainer
        ? [
            { name: CONTRIBUTIONS_OUTPUT, datatype: "FP64", shape: [-1, manifest.features.length], parameters: { features: manifest.features.map((f) => f.name), space: manifest.explainer.space } },
            { name: BASE_VALUE_OUTPUT, datatype: "FP64", shape: [-1] },
          ]
        : []),
    ],
  };
}

/** Requested outputs that explain each row: SHAP contributions [N, F] in manifest feature order, and the base value per row. */
const CONTRIBUTIONS_OUTPUT = "contributions";
const BASE_VALUE_OUTPUT = "base_value";

interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
}

const NUMERIC_TYPES = new Set(["FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"]);

async function infer(c: Context<AppEnv>) {
  const services = c.get("services");
  const body = (await readJsonBody(c)) as { id?: unknown; inputs?: unknown; outputs?: unknown };
  if (typeof body !== "object" || body === null || !Array.isArray(body.inputs) || body.inputs.length === 0) {
    throw new ApiError("BAD_REQUEST", "expected {\"inputs\": [{name, shape, datatype, data}, ...]}");
  }
  const inputs = body.inputs as InferInput[];
  // Before any row is built: a 1 MiB body can carry ~500k values, each of which would become a row object.
  assertBatchSize(longestData(inputs), services.settings.maxBatchRows, "inputs");
  const rows = tensorsToRows(inputs);
  const ref = versionRef({ version: c.req.param("version"), alias: c.req.query("alias") }, services.settings.defaultAlias);
  const wanted = Array.isArray(body.outputs)
    ? new Set((body.outputs as { name?: unknown }[]).map((o) => String(o?.name)))
    : null;
  const explain = wanted?.has(CONTRIBUTIONS_OUTPUT) || wanted?.has(BASE_VALUE_OUTPUT);
  const { result, tokens } = await servePrediction(c, {
    name: c.req.param("name")!,
    ref,
    rows,
    path: (i, f) => (f ? `inputs[${f}].data[${i}]` : `inputs[*].data[${i}]`),
    ...(explain ? { explain: { top: "all" as const } } : {}),
  });
  const n = result.predictions.length;
  const label = result.manifest.output.label;
  const all = [
    { name: result.manifest.onnx.output, datatype: "FP32", shape: [n, 2], data: Array.from(result.probabilities) },
    { name: `${label}_probability`, datatype: "FP32", shape: [n], data: result.predictions.map((p) => p.probability) },
    { name: `${label}_prediction`, datatype: "BOOL", shape: [n], data: result.predictions.map((p) => p.prediction) },
    { name: "risk_tier", datatype: "BYTES", shape: [n], data: result.predictions.map((p) => p.risk_tier) },
    ...(tokens ? [{ name: "prediction_token", datatype: "BYTES", shape: [n], data: tokens }] : []),
    ...(result.explanations ? explanationOutputs(result.manifest, result.explanations) : []),
  ];
  if (wanted) {
    const unknown = [...wanted].filter((w) => !all.some((o) => o.name === w));
    if (unknown.length) throw new ApiError("BAD_REQUEST", `unknown requested output(s): ${unknown.join(", ")}`);
  }
  return c.json({
    model_name: result.name,
    model_version: String(result.version),
    ...(typeof body.id === "string" ? { id: body.id } : {}),
    outputs: wanted ? all.filter((o) => wanted.has(o.name)) : all,
  });
}

/** contributions [N, F] in manifest feature order (the explanations come sorted by size), and base_value [N]. */
function explanationOutputs(manifest: Manifest, explanations: RowExplanation[]) {
  const features = manifest.features.map((f) => f.name);
  const data: number[] = [];
  for (const e of explanations) {
    const byName = new Map(e.contributions.map((c) => [c.feature, c.contribution]));
    for (const f of features) data.push(byName.get(f) ?? 0);
  }
  const n = explanations.length;
  return [
    { name: CONTRIBUTIONS_OUTPUT, datatype: "FP64", shape: [n, features.length], data, parameters: { features, space: explanations[0]?.space ?? manifest.explainer?.space } },
    { name: BASE_VALUE_OUTPUT, datatype: "FP64", shape: [n], data: explanations.map((e) => e.base_value) },
  ];
}

/** The batch size the body claims: its longest tensor's data (a loop: the inputs array may be long too). */
function longestData(inputs: InferInput[]): number {
  let longest = 0;
  for (const input of inputs) if (Array.isArray(input?.data)) longest = Math.max(longest, input.data.length);
  return longest;
}

/** One tensor per feature, all with the same batch size, into row records for validation. */
function tensorsToRows(inputs: InferInput[]): Record<string, unknown>[] {
  const issues: { field: string; message: string }[] = [];
  let n = -1;
  const columns: [string, unknown[]][] = [];
  for (const [k, input] of inputs.entries()) {
    if (typeof input !== "object" || input === null || typeof input.name !== "string") {
      issues.push({ field: `inputs[${k}]`, message: "expected {name, shape, datatype, data}" });
      continue;
    }
    if (!Array.isArray(input.data) || !Array.isArray(input.shape)) {
      issues.push({ field: `inputs[${input.name}]`, message: "shape and data must be arrays" });
      continue;
    }
    const shape = input.shape as unknown[];
    // Numbers only, before anything converts or quotes the shape: Number() and JSON.stringify of a
    // nested array recurse, and a 400 KB body can nest one 200,000 deep (a stack overflow, a 500).
    if (!shape.every((d) => typeof d === "number")) {
      issues.push({ field: `inputs[${input.name}].shape`, message: "expected an array of integers, [N] or [N,1]" });
      continue;
    }
    const rows = Number(shape[0]);
    const width = shape.slice(1).reduce((a: number, b) => a * Number(b), 1);
    if (shape.length < 1 || shape.length > 2 || !Number.isInteger(rows) || rows < 0 || width !== 1) {
      issues.push({ field: `inputs[${input.name}].shape`, message: `expected [N] or [N,1], got ${JSON.stringify(shape).slice(0, 80)}` });
      continue;
    }
    const data = flattenColumn(input.data as unknown[], shape.length);
    if (typeof data === "string") {
      issues.push({ field: `inputs[${input.name}].data`, message: data });
      continue;
    }
    if (data.length !== rows) {
      issues.push({ field: `inputs[${input.name}].shape`, message: `shape ${JSON.stringify(shape)} does not match ${data.length} data values` });
      continue;
    }
    if (input.datatype !== "BYTES" && !NUMERIC_TYPES.has(input.datatype)) {
      issues.push({ field: `inputs[${input.name}].datatype`, message: `unsupported datatype ${JSON.stringify(input.datatype)}` });
      continue;
    }
    if (n >= 0 && rows !== n) issues.push({ field: `inputs[${input.name}].shape`, message: `batch size ${rows} differs from ${n}` });
    n = Math.max(n, rows);
    columns.push([input.name, data]);
  }
  if (issues.length) throw new ApiError("BAD_REQUEST", issues.map((i) => `${i.field}: ${i.message}`).join("; "), { issues });
  return Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, data]) => [name, data[i]])));
}

/**
 * An [N] tensor's data is flat; an [N,1] tensor's may be flat or nested one level ([[v], [v]]), as
 * OIP allows. Anything nested deeper is refused without walking it: a 40 KB body can nest 20,000
 * levels, which recursive flattening (`flat(Infinity)`) turns into a stack overflow. Returns the
 * values, or why they were refused.
 */
function flattenColumn(data: unknown[], rank: number): unknown[] | string {
  const values: unknown[] = [];
  for (const item of data) {
    if (!Array.isArray(item)) {
      values.push(item);
      continue;
    }
    if (rank < 2) return "nested deeper than its shape: [N] data is a flat array of values";
    for (const value of item as unknown[]) {
      if (Array.isArray(value)) return "nested deeper than its shape: [N,1] data is [v, ...] or [[v], ...]";
      values.push(value);
    }
  }
  return values;
}
