/**
 * Reads a JSON request body under a byte limit. Wrong content type or malformed JSON is a 400,
 * an oversized body a 413 (checked against Content-Length first, then while streaming, so a
 * chunked upload cannot get around it).
 */
import type { Context } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./context";

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new ApiError("BAD_REQUEST", `Content-Type must be application/json (got ${type ? JSON.stringify(type) : "none"})`);
  }
  const limit = c.get("services").settings.maxBodyBytes;
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit, declared);
  const text = await readLimited(c.req.raw, limit);
  if (text.trim() === "") throw new ApiError("BAD_REQUEST", "request body is empty; expected a JSON document");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError("BAD_REQUEST", `malformed JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function readLimited(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function tooLarge(limit: number, declared?: number): ApiError {
  return new ApiError(
    "PAYLOAD_TOO_LARGE",
    `request body ${declared ? `of ${declared} bytes ` : ""}exceeds the limit of ${limit} bytes`,
    { limit_bytes: limit },
  );
}
