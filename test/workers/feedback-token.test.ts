/**
 * Prediction tokens inside workerd (its crypto.subtle): what a token carries comes back exactly,
 * any altered character is refused, and a token verifies only under the key that issued it. The key
 * is PREDICTION_TOKEN_SECRET alone: the admin token never signs or keys anything here, so a public
 * token tells nothing about it.
 */
import { describe, expect, it } from "vitest";
import { issuePredictionTokens, MIN_PREDICTION_SECRET_LENGTH, type TokenSecrets, tokensOffReason, verifyPredictionToken } from "../../worker/feedback/prediction-token";

const ADMIN_TOKEN = "admin-token-for-token-tests-0123";
const OWN_SECRET: TokenSecrets = { PREDICTION_TOKEN_SECRET: "prediction-secret-abcdefghijklmnop-0123456789" };

/** A result as predictRows gives it: [1-p, p] per row, float32. */
function resultOf(name: string, version: number, p: number[]) {
  const probabilities = new Float32Array(p.length * 2);
  p.forEach((v, i) => {
    probabilities[i * 2] = 1 - v;
    probabilities[i * 2 + 1] = v;
  });
  return { name, version, probabilities };
}

async function oneToken(secrets: TokenSecrets, p = 0.61752, requestId = "req-1"): Promise<string> {
  const tokens = await issuePredictionTokens(secrets, { requestId, result: resultOf("churn-classifier", 3, [p]), issuedAt: Date.UTC(2026, 10, 30, 6) });
  return tokens![0]!;
}

describe("round trip", () => {
  it("each row's token gives back model, version, request id, row, the exact float32 probability and the time", async () => {
    const p = [0.1, 0.5, 0.999999, 0, 1, 1e-40, Math.fround(0.45)];
    const issuedAt = Date.UTC(2026, 10, 30, 6, 30, 15, 123);
    const requestId = "a".repeat(100) + ".client:id_1-";
    const result = resultOf("model-ß-名前", 4_000_000_000, p);
    const tokens = await issuePredictionTokens(OWN_SECRET, { requestId, result, issuedAt });
    expect(tokens).toHaveLength(p.length);
    expect(new Set(tokens).size).toBe(p.length);
    for (let i = 0; i < p.length; i++) {
      const verdict = await verifyPredictionToken(OWN_SECRET, tokens![i]!);
      expect(verdict).toEqual({
        ok: true,
        claim: { model: "model-ß-名前", version: 4_000_000_000, requestId, rowIndex: i, probability: result.probabilities[i * 2 + 1], issuedAt },
      });
    }
  });

  it("is compact: about 125 characters for a UUID request id", async () => {
    const token = await oneToken(OWN_SECRET, 0.5, crypto.randomUUID());
    expect(token).toMatch(/^pt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(token.length).toBeLessThan(140);
  });

  it("issues and accepts nothing without PREDICTION_TOKEN_SECRET, whatever the admin token", async () => {
    const issue = (secrets: Record<string, string>) => issuePredictionTokens(secrets, { requestId: "r", result: resultOf("m", 1, [0.5]), issuedAt: 0 });
    expect(await issue({})).toBeNull();
    expect(await issue({ ADMIN_TOKEN })).toBeNull();
    expect(tokensOffReason({})).toBe("PREDICTION_TOKEN_SECRET is not set");
    expect(await verifyPredictionToken({}, await oneToken(OWN_SECRET))).toEqual({
      ok: false,
      reason: "prediction tokens are not enabled here (PREDICTION_TOKEN_SECRET is not set)",
    });
  });

  it("a secret shorter than 43 characters (32 random bytes as base64url) is not used", async () => {
    expect(MIN_PREDICTION_SECRET_LENGTH).toBe(43);
    const short = { PREDICTION_TOKEN_SECRET: "x".repeat(42) };
    expect(tokensOffReason(short)).toMatch(/shorter than 43 characters/);
    expect(await issuePredictionTokens(short, { requestId: "r", result: resultOf("m", 1, [0.5]), issuedAt: 0 })).toBeNull();
    expect(await oneToken({ PREDICTION_TOKEN_SECRET: "x".repeat(43) })).toMatch(/^pt1\./);
  });
});

describe("tampering", () => {
  it("changing any one character of the token is refused", async () => {
    const token = await oneToken(OWN_SECRET);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (let i = 0; i < token.length; i++) {
      const swapped = alphabet[(alphabet.indexOf(token[i]!) + 1 + (i % 7)) % alphabet.length]!;
      const altered = token.slice(0, i) + swapped + token.slice(i + 1);
      expect(altered).not.toBe(token);
      const verdict = await verifyPredictionToken(OWN_SECRET, altered);
      expect(verdict.ok, `character ${i}: ${token[i]} -> ${swapped}`).toBe(false);
    }
  });

  it("changing any one bit of the payload or the signature is refused", async () => {
    const token = await oneToken(OWN_SECRET);
    const [prefix, payload, mac] = token.split(".") as [string, string, string];
    for (const [part, which] of [
      [payload, 1],
      [mac, 2],
    ] as const) {
      const bytes = Uint8Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = bytes.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const encoded = btoa(String.fromCharCode(...flipped)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        const parts = [prefix, payload, mac];
        parts[which] = encoded;
        expect((await verifyPredictionToken(OWN_SECRET, parts.join("."))).ok, `part ${which} bit ${bit}`).toBe(false);
      }
    }
  });

  it("truncated, extended, re-padded and foreign strings are refused without throwing", async () => {
    const token = await oneToken(OWN_SECRET);
    for (const bad of [token.slice(0, -1), `${token}A`, `${token}=`, token.replace("pt1.", "pt2."), `${token}.x`, "", "pt1..", "not a token", "pt1.%%%.%%%"]) {
      expect((await verifyPredictionToken(OWN_SECRET, bad)).ok, bad).toBe(false);
    }
  });
});

describe("keys", () => {
  it("a token from another secret is refused", async () => {
    const other = { PREDICTION_TOKEN_SECRET: "another-secret-entirely-0123456789-abcdefghij" };
    const verdict = await verifyPredictionToken(OWN_SECRET, await oneToken(other));
    expect(verdict).toEqual({ ok: false, reason: "signature does not verify (altered, or issued under another key)" });
  });

  it("the MAC is HMAC-SHA256 keyed by the secret's own bytes, with nothing of the admin token in it", async () => {
    const token = await oneToken({ ...OWN_SECRET, ADMIN_TOKEN } as TokenSecrets);
    const [prefix, payload, mac] = token.split(".") as [string, string, string];
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(OWN_SECRET.PREDICTION_TOKEN_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes), 0, 16);
    expect(prefix).toBe("pt1");
    expect(mac).toBe(btoa(String.fromCharCode(...expected)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
    // Same token whatever the admin token is: it cannot be an oracle for it.
    expect(await oneToken({ ...OWN_SECRET, ADMIN_TOKEN: "another-admin-token-0123456789" } as TokenSecrets)).toBe(token);
  });
});
