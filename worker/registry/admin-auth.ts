/**
 * The admin token check: `Authorization: Bearer <ADMIN_TOKEN>`. No token is a 401, a wrong one a 403;
 * past the ADMIN_AUTH_FAILURES limit a client's failures answer 429 instead. With no usable
 * ADMIN_TOKEN configured every admin request fails (500 MISCONFIGURED): the API never opens by default.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";

/** A shorter secret can be guessed despite the rate limit (which counts per Cloudflare location). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
/** The limiter's period (wrangler.toml `[[ratelimits]]`): when a blocked client may try again. */
const RETRY_AFTER_SECONDS = 60;

/** Guards every route it is mounted on. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  await verifyAdminRequest(c);
  await next();
});

export function verifyAdminRequest(c: Context<AppEnv>): Promise<void> {
  return verifyAdmin(c, presentedToken(c) ?? null);
}

/**
 * For public routes that show more to the admin: no Authorization header reads as the public, a
 * header must carry the right token (a wrong one is refused, not quietly downgraded).
 */
export async function adminOrPublic(c: Context<AppEnv>): Promise<"admin" | "public"> {
  const token = presentedToken(c);
  if (token === undefined) return "public";
  await verifyAdmin(c, token);
  return "admin";
}

async function verifyAdmin(c: Context<AppEnv>, token: string | null): Promise<void> {
  const expected = (c.env.ADMIN_TOKEN as string | undefined) ?? "";
  if (expected.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ApiError(
      "MISCONFIGURED",
      `the admin API is closed: the ADMIN_TOKEN secret is ${expected ? `shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters` : "not set"} (wrangler secret put ADMIN_TOKEN; .dev.vars locally)`,
    );
  }
  if (token === null) {
    await countFailure(c);
    throw new ApiError("UNAUTHORIZED", "this route needs the admin token: Authorization: Bearer <ADMIN_TOKEN>");
  }
  if (!(await tokensEqual(token, expected))) {
    await countFailure(c);
    throw new ApiError("FORBIDDEN", "the admin token is not valid");
  }
}

/** The bearer token; null for a header in another scheme (refused as missing), undefined with no header. */
function presentedToken(c: Context<AppEnv>): string | null | undefined {
  const header = c.req.header("authorization");
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * Hashing first gives both sides 32 bytes, so timingSafeEqual (which throws on unequal lengths)
 * always runs and the time taken says nothing about the token's length or content.
 */
async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([presented, expected].map((t) => crypto.subtle.digest("SHA-256", encoder.encode(t))));
  return crypto.subtle.timingSafeEqual(a!, b!);
}

/**
 * Only failures are counted, so an attacker sharing a client's address cannot lock CI out; the
 * token's entropy, not the limit, is what makes guessing hopeless.
 */
async function countFailure(c: Context<AppEnv>): Promise<void> {
  const client = c.req.header("cf-connecting-ip") ?? "unknown";
  const { success } = await c.env.ADMIN_AUTH_FAILURES.limit({ key: client });
  if (!success) {
    throw new ApiError("RATE_LIMITED", `too many failed admin authentications from this client; retry after ${RETRY_AFTER_SECONDS} s`, {
      retry_after_seconds: RETRY_AFTER_SECONDS,
    });
  }
}
