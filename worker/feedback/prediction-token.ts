/**
 * Prediction tokens: a signed, self-contained record of one predicted row (model, version, request
 * id, row index, the float32 probability exactly as the graph gave it, issue time), returned with
 * the prediction and sent back with its label. POST /feedback verifies the signature and takes the
 * prediction from the token, so any prediction can be joined to its label without a D1 write per
 * prediction; only sampled predictions (request_samples) can be joined without one.
 *
 * Format: `pt1.<payload>.<mac>`, both base64url without padding. The payload is binary, big-endian:
 *   u8 format (1) | u32 version | u32 row index | f32 probability | f64 issued-at (ms since epoch)
 *   | u16 length + UTF-8 model name | u16 length + UTF-8 request id
 * The MAC is HMAC-SHA256 over the payload bytes (whose first byte is the format), truncated to 128
 * bits (RFC 2104 allows truncation to half the hash length), so a token for a UUID request id is 130
 * characters. Issuing encodes the shared part of a request's payload once and re-encodes only the
 * base64 characters that cover row index and probability for each row (bytes 5-12, characters 4-19).
 *
 * Key: PREDICTION_TOKEN_SECRET when set; otherwise HKDF-SHA256(ADMIN_TOKEN, info "prediction-token"),
 * so a deployment with only the admin token still issues tokens and the admin token itself never
 * signs anything. The trade-off: rotating ADMIN_TOKEN (or setting or changing
 * PREDICTION_TOKEN_SECRET) invalidates every outstanding token; labels for those predictions can
 * then only join through a sample. Set PREDICTION_TOKEN_SECRET to rotate the two independently.
 * A secret shorter than 16 characters is not used; with no usable secret no tokens are issued.
 */
import type { PredictResult } from "../scoring/predict-rows";

export const TOKEN_PREFIX = "pt1";
const FORMAT = 1;
const MAC_BYTES = 16;
const FIXED_BYTES = 1 + 4 + 4 + 4 + 8;
/** Row index and probability (bytes 5-12) lie within the 3-byte groups 3-14, base64 characters 4-19. */
const ROW_BYTES_START = 3;
const ROW_BYTES_END = 15;
const ROW_CHARS_START = 4;
const ROW_CHARS_END = 20;
/** Shorter secrets are ignored, as http/admin-auth.ts refuses a shorter ADMIN_TOKEN. */
export const MIN_SECRET_LENGTH = 16;
const MAX_TOKEN_LENGTH = 1024;

export type TokenSecrets = { ADMIN_TOKEN?: string; PREDICTION_TOKEN_SECRET?: string };

/** What a token says about the prediction it was issued for. */
export interface PredictionClaim {
  model: string;
  version: number;
  requestId: string;
  rowIndex: number;
  /** The graph's float32 probability, exactly (a float32 value held in a double). */
  probability: number;
  /** ms since epoch. */
  issuedAt: number;
}

export type TokenVerdict = { ok: true; claim: PredictionClaim } | { ok: false; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Imported keys per isolate, by secret source; a deployment has one, tests a few. */
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_KEYS = 8;

/** Where the signing key comes from, or null when neither secret is usable. */
export function tokenKeySource(env: TokenSecrets): { kind: "secret" | "admin-derived"; secret: string } | null {
  const own = env.PREDICTION_TOKEN_SECRET ?? "";
  if (own.length >= MIN_SECRET_LENGTH) return { kind: "secret", secret: own };
  const admin = env.ADMIN_TOKEN ?? "";
  if (admin.length >= MIN_SECRET_LENGTH) return { kind: "admin-derived", secret: admin };
  return null;
}

function signingKey(env: TokenSecrets): Promise<CryptoKey> | null {
  const source = tokenKeySource(env);
  if (!source) return null;
  const id = `${source.kind}:${source.secret}`;
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
    key = importKey(source.kind, source.secret);
    key.catch(() => keys.delete(id));
    keys.set(id, key);
  }
  return key;
}

async function importKey(kind: "secret" | "admin-derived", secret: string): Promise<CryptoKey> {
  if (kind === "secret") return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("prediction-token") },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/**
 * One token per row of a prediction, in row order; null when no signing secret is configured (the
 * prediction then answers without tokens). `issuedAt` is ms since epoch.
 */
export async function issuePredictionTokens(
  env: TokenSecrets,
  input: { requestId: string; result: Pick<PredictResult, "name" | "version" | "probabilities">; issuedAt: number },
): Promise<string[] | null> {
  const key = signingKey(env);
  if (!key) return null;
  const cryptoKey = await key;
  const { result, requestId, issuedAt } = input;
  const rows = result.probabilities.length / 2;
  const model = encoder.encode(result.name);
  const request = encoder.encode(requestId);
  // Everything but row index and probability is shared: lay it out once, patch the two per row.
  const template = new Uint8Array(FIXED_BYTES + 2 + model.length + 2 + request.length);
  const view = new DataView(template.buffer);
  view.setUint8(0, FORMAT);
  view.setUint32(1, result.version);
  view.setFloat64(13, issuedAt);
  view.setUint16(FIXED_BYTES, model.length);
  template.set(model, FIXED_BYTES + 2);
  view.setUint16(FIXED_BYTES + 2 + model.length, request.length);
  template.set(request, FIXED_BYTES + 4 + model.length);
  const shared = toBase64Url(template);
  const head = `${TOKEN_PREFIX}.${shared.slice(0, ROW_CHARS_START)}`;
  const tail = shared.slice(ROW_CHARS_END);
  const signed = new Array<Promise<string>>(rows);
  for (let i = 0; i < rows; i++) {
    view.setUint32(5, i);
    view.setFloat32(9, result.probabilities[i * 2 + 1]!);
    const payload = `${head}${toBase64Url(template.subarray(ROW_BYTES_START, ROW_BYTES_END))}${tail}`;
    signed[i] = crypto.subtle.sign("HMAC", cryptoKey, template.slice()).then((mac) => `${payload}.${toBase64Url(new Uint8Array(mac, 0, MAC_BYTES))}`);
  }
  return Promise.all(signed);
}

/** Checks the MAC in constant time, then decodes the claim. Never throws for a bad token. */
export async function verifyPredictionToken(env: TokenSecrets, token: string): Promise<TokenVerdict> {
  const key = signingKey(env);
  if (!key) return { ok: false, reason: "prediction tokens are not enabled here (no PREDICTION_TOKEN_SECRET or ADMIN_TOKEN)" };
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "not a prediction token" };
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return { ok: false, reason: `not a prediction token (expected ${TOKEN_PREFIX}.<payload>.<signature>)` };
  const payload = fromBase64Url(parts[1]!);
  const mac = fromBase64Url(parts[2]!);
  if (!payload || !mac || mac.length !== MAC_BYTES) return { ok: false, reason: "not a prediction token (bad encoding)" };
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", await key, payload), 0, MAC_BYTES);
  if (!constantTimeEqual(mac, expected)) return { ok: false, reason: "signature does not verify (altered, or issued under another key)" };
  const claim = decodeClaim(payload);
  return claim ? { ok: true, claim } : { ok: false, reason: "signed payload does not decode" };
}

function decodeClaim(bytes: Uint8Array): PredictionClaim | null {
  if (bytes.length < FIXED_BYTES + 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== FORMAT) return null;
  const modelLength = view.getUint16(FIXED_BYTES);
  const requestAt = FIXED_BYTES + 2 + modelLength;
  if (requestAt + 2 > bytes.length) return null;
  const requestLength = view.getUint16(requestAt);
  if (requestAt + 2 + requestLength !== bytes.length) return null;
  try {
    return {
      version: view.getUint32(1),
      rowIndex: view.getUint32(5),
      probability: view.getFloat32(9),
      issuedAt: view.getFloat64(13),
      model: decoder.decode(bytes.subarray(FIXED_BYTES + 2, requestAt)),
      requestId: decoder.decode(bytes.subarray(requestAt + 2)),
    };
  } catch {
    return null;
  }
}

/** Time depends on the length only, which is fixed (MAC_BYTES) by the time it is called. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Strict: only the base64url alphabet, no padding, and the canonical encoding of its bytes. */
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  return toBase64Url(bytes) === text ? bytes : null;
}
