/**
 * The admin token check: `Authorization: Bearer <ADMIN_TOKEN>`. No token is a 401, a wrong one a 403;
 * past the ADMIN_AUTH_FAILURES limit a client's failures answer 429 instead. With no usable
 * ADMIN_TOKEN configured every admin request fails (500 MISCONFIGURED): the API never opens by default.
 * Header parsing, the constant-time comparison and the failure limiter are in http/bearer-token.ts.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors";
import { bearerToken, countAuthFailure, tokensEqual } from "./bearer-token";
import type { AppEnv } from "./context";

/** A shorter secret can be guessed despite the rate limit (which counts per Cloudflare location). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

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
    await countAuthFailure(c);
    throw new ApiError("UNAUTHORIZED", "this route needs the admin token: Authorization: Bearer <ADMIN_TOKEN>");
  }
  if (!(await tokensEqual(token, expected))) {
    await countAuthFailure(c);
    throw new ApiError("FORBIDDEN", "the admin token is not valid");
  }
}

function presentedToken(c: Context<AppEnv>): string | null | undefined {
  return bearerToken(c.req.header("authorization"));
}
