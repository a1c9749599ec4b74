/**
 * Who may send labels: `Authorization: Bearer <token>` with the admin token or FEEDBACK_TOKEN (a
 * narrower secret for the system that observes outcomes, which cannot touch the registry). No token
 * is a 401, a wrong one a 403. Failures count against the same ADMIN_AUTH_FAILURES limiter as the
 * admin API, since this route also accepts the admin token and must not become a way around it.
 * With neither secret configured (16+ characters), feedback stays closed: 500 MISCONFIGURED.
 */
import type { Context } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { MIN_SECRET_LENGTH } from "./prediction-token";

const RETRY_AFTER_SECONDS = 60;

export async function verifyFeedbackRequest(c: Context<AppEnv>): Promise<void> {
  const accepted = [c.env.ADMIN_TOKEN as string | undefined, c.env.FEEDBACK_TOKEN].filter((t): t is string => (t ?? "").length >= MIN_SECRET_LENGTH);
  if (accepted.length === 0) {
    throw new ApiError("MISCONFIGURED", "feedback is closed: neither FEEDBACK_TOKEN nor ADMIN_TOKEN is set (16+ characters; wrangler secret put, .dev.vars locally)");
  }
  const header = c.req.header("authorization");
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  if (!match) {
    await countFailure(c);
    throw new ApiError("UNAUTHORIZED", "POST /feedback needs Authorization: Bearer <FEEDBACK_TOKEN or ADMIN_TOKEN>");
  }
  const matches = await Promise.all(accepted.map((t) => tokensEqual(match[1]!, t)));
  if (!matches.includes(true)) {
    await countFailure(c);
    throw new ApiError("FORBIDDEN", "the token is neither the feedback token nor the admin token");
  }
}

/**
 * The same comparison as admin-auth.ts (not exported there): hashing gives both sides 32 bytes, so
 * timingSafeEqual always runs and its time says nothing about the token. Every configured token is
 * compared, so which one matched does not show either.
 */
export async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([presented, expected].map((t) => crypto.subtle.digest("SHA-256", encoder.encode(t))));
  return crypto.subtle.timingSafeEqual(a!, b!);
}

async function countFailure(c: Context<AppEnv>): Promise<void> {
  const client = c.req.header("cf-connecting-ip") ?? "unknown";
  const { success } = await c.env.ADMIN_AUTH_FAILURES.limit({ key: client });
  if (!success) {
    throw new ApiError("RATE_LIMITED", `too many failed authentications from this client; retry after ${RETRY_AFTER_SECONDS} s`, {
      retry_after_seconds: RETRY_AFTER_SECONDS,
    });
  }
}
