/**
 * Bearer-token plumbing shared by every guarded route (admin API, /feedback, /metrics): reading the
 * header, comparing in constant time, and counting failures against the ADMIN_AUTH_FAILURES limiter.
 */
import type { Context } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./context";

/** The limiter's period (wrangler.toml `[[ratelimits]]`): when a blocked client may try again. */
const RETRY_AFTER_SECONDS = 60;

/** The bearer token; null for a header in another scheme (treated as missing), undefined with no header. */
export function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * Hashing first gives both sides 32 bytes, so timingSafeEqual (which throws on unequal lengths)
 * always runs and the time taken says nothing about the token's length or content.
 */
export async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([presented, expected].map((t) => crypto.subtle.digest("SHA-256", encoder.encode(t))));
  return crypto.subtle.timingSafeEqual(a!, b!);
}

/**
 * Counts one failed authentication for the client; past the limit answers 429 instead of the
 * 401/403 the caller was about to throw. Only failures are counted, so an attacker sharing a
 * client's address cannot lock CI out; the token's entropy, not the limit, is what makes guessing
 * hopeless.
 */
export async function countAuthFailure(c: Context<AppEnv>): Promise<void> {
  const client = c.req.header("cf-connecting-ip") ?? "unknown";
  const { success } = await c.env.ADMIN_AUTH_FAILURES.limit({ key: client });
  if (!success) {
    throw new ApiError("RATE_LIMITED", `too many failed authentications from this client; retry after ${RETRY_AFTER_SECONDS} s`, {
      retry_after_seconds: RETRY_AFTER_SECONDS,
    });
  }
}
