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
 * Key: PREDICTION_TOKEN_SECRET, a secret of its own, used as the HMAC key as written (its UTF-8
 * bytes, whatever encoding it was generated in). It is never derived from ADMIN_TOKEN: every token is
 * public (any /predict answer carries one), so a key derived from the admin token without salt or
 * stretching let anyone test admin-token guesses offline against a token. A MAC key that is never
 * typed by a person only needs enough entropy, so the rule is a length floor of 43 characters: 32
 * random bytes written as base64url (`npm start` writes that) or hex (64 characters, `openssl rand
 * -hex 32`) both pass, and even 43 hex characters carry 172 bits, far past offline guessing. Unset or
 * shorter, no tokens are issued or accepted, and the isolate logs why once.
 * Rotating PREDICTION_TOKEN_SECRET invalidates every outstanding token; labels for those predictions
 * can then only join through a sample. POST /feedback also refuses tokens older than
 * FEEDBACK_MAX_AGE_DAYS (record-feedback.ts), so a leaked token is not good forever.
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
/** Shortest bearer token (METRICS_TOKEN, FEEDBACK_TOKEN) accepted, as http/admin-auth.ts refuses a shorter ADMIN_TOKEN. */
export const MIN_SECRET_LENGTH = 16;
/** Shortest PREDICTION_TOKEN_SECRET used: 32 random bytes in base64url (see the key note above). */
export const MIN_PREDICTION_SECRET_LENGTH = 43;
const MAX_TOKEN_LENGTH = 1024;

export type TokenSecrets = { PREDICTION_TOKEN_SECRET?: string };

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

/** Imported keys per isolate, by secret; a deployment has one, tests a few. */
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_KEYS = 8;
/** Whether this isolate has already logged that tokens are off (once is enough: it is per deployment). */
let loggedOff = false;

/** Why tokens are off with these secrets, or null when PREDICTION_TOKEN_SECRET is usable. */
export function tokensOffReason(env: TokenSecrets): string | null {
  const secret = env.PREDICTION_TOKEN_SECRET ?? "";
  if (secret.length >= MIN_PREDICTION_SECRET_LENGTH) return null;
  return secret
    ? `PREDICTION_TOKEN_SECRET is shorter than ${MIN_PREDICTION_SECRET_LENGTH} characters (use 32 random bytes: openssl rand -hex 32)`
    : "PREDICTION_TOKEN_SECRET is not set";
}

function signingKey(env: TokenSecrets): Promise<CryptoKey> | null {
  const off = tokensOffReason(env);
  if (off) {
    if (!loggedOff) {
      loggedOff = true;
      console.warn(JSON.stringify({ level: "warn", where: "prediction-token", message: `prediction tokens are off: ${off}` }));
    }
    return null;
  }
  const secret = env.PREDICTION_TOKEN_SECRET!;
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    key.catch(() => keys.delete(secret));
    keys.set(secret, key);
  }
  return key;
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
  if (!key) return { ok: false, reason: `prediction tokens are not enabled here (${tokensOffReason(env)})` };
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
