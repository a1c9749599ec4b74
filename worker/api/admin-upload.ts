/**
 * Reads a publish upload: multipart/form-data with the parts model.onnx and manifest.json, and
 * optionally model-card.md, reference.json, explainer.json, aliases (comma-separated) and reason. The size is
 * judged from Content-Length before a byte is read, since the parts are held in memory.
 */
import type { Context } from "hono";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../contract/json-depth";
import { ApiError, type FieldIssue } from "../errors";
import type { AppEnv } from "../http/context";
import type { PublishInput } from "../registry/publish-version";

export type Upload = Pick<PublishInput, "manifest" | "onnx" | "modelCard" | "reference" | "explainer" | "aliases" | "reason">;

export async function readUpload(c: Context<AppEnv>, name: string, limit: number): Promise<Upload> {
  checkLength(c.req.header("content-length"), limit);
  const type = c.req.header("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    throw new ApiError("BAD_REQUEST", `Content-Type must be multipart/form-data (got ${type ? JSON.stringify(type) : "none"})`);
  }
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch (error) {
    throw new ApiError("BAD_REQUEST", `malformed multipart body: ${(error as Error).message}`);
  }
  const issues: FieldIssue[] = [];
  const onnx = form.get("model.onnx");
  if (!(onnx instanceof File)) issues.push({ field: "model.onnx", message: "required: the ONNX graph as a file part" });
  const manifestText = await partText(form, "manifest.json");
  let manifest: unknown;
  if (manifestText === undefined) issues.push({ field: "manifest.json", message: "required" });
  else if (nestsDeeperThan(manifestText)) {
    issues.push({ field: "manifest.json", message: `nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects` });
  } else {
    try {
      manifest = JSON.parse(manifestText);
    } catch (error) {
      issues.push({ field: "manifest.json", message: `not JSON: ${(error as Error).message}` });
    }
  }
  const manifestName = (manifest as { name?: unknown } | undefined)?.name;
  if (manifest !== undefined && manifestName !== name) {
    issues.push({ field: "manifest.json.name", message: `is ${JSON.stringify(manifestName)}, but the upload is for model ${JSON.stringify(name)}` });
  }
  if (issues.length) throw new ApiError("VALIDATION_FAILED", issues.map((i) => `${i.field}: ${i.message}`).join("; "), { issues });
  const aliases = (await partText(form, "aliases"))?.split(",").map((a) => a.trim()).filter(Boolean);
  return {
    manifest,
    onnx: new Uint8Array(await (onnx as File).arrayBuffer()),
    modelCard: await partText(form, "model-card.md"),
    reference: await partText(form, "reference.json"),
    explainer: await partText(form, "explainer.json"),
    aliases: aliases ?? [],
    reason: (await partText(form, "reason"))?.trim() || undefined,
  };
}

function checkLength(header: string | undefined, limit: number): void {
  if (header === undefined) {
    throw new ApiError("LENGTH_REQUIRED", "uploads need a Content-Length header: artifacts are stored in R2, which refuses a stream of unknown length");
  }
  if (!/^[0-9]+$/.test(header.trim())) throw new ApiError("BAD_REQUEST", `Content-Length is not a byte count: ${JSON.stringify(header)}`);
  const declared = Number(header);
  if (declared > limit) {
    throw new ApiError("PAYLOAD_TOO_LARGE", `upload of ${declared} bytes exceeds the limit of ${limit} bytes (MAX_UPLOAD_BYTES)`, { limit_bytes: limit });
  }
}

/** A part sent either as a file or as a plain field. */
async function partText(form: FormData, name: string): Promise<string | undefined> {
  const part = form.get(name);
  if (part === null) return undefined;
  return typeof part === "string" ? part : part.text();
}
