/**
 * Who may send labels: `Authorization: Bearer <token>` with the admin token or FEEDBACK_TOKEN (a
 * narrower secret for the system that observes outcomes, which cannot touch the registry). No token
 * is a 401, a wrong one a 403. Failures count against the same ADMIN_AUTH_FAILURES limiter as the
 * admin API, since this route also accepts the admin token and must not become a way around it.
 * With neither secret configured (16+ characters), feedback stays closed: 500 MISCONFIGURED.
 */
import type { Context } from "hono";
import { ApiError } from "../errors";
import { bearerToken, countAuthFailure, tokensEqual } from "./bearer-token";
import type { AppEnv } from "./context";
import { MIN_SECRET_LENGTH } from "../feedback/prediction-token";

export async function verifyFeedbackRequest(c: Context<AppEnv>): Promise<void> {
  const accepted = [c.env.ADMIN_TOKEN as string | undefined, c.env.FEEDBACK_TOKEN].filter((t): t is string => (t ?? "").length >= MIN_SECRET_LENGTH);
  if (accepted.length === 0) {
    throw new ApiError("MISCONFIGURED", "feedback is closed: neither FEEDBACK_TOKEN nor ADMIN_TOKEN is set (16+ characters; wrangler secret put, .dev.vars locally)");
  }
  const token = bearerToken(c.req.header("authorization"));
  if (!token) {
    await countAuthFailure(c);
    throw new ApiError("UNAUTHORIZED", "POST /feedback needs Authorization: Bearer <FEEDBACK_TOKEN or ADMIN_TOKEN>");
  }
  // Every configured token is compared, so which one matched does not show in the time taken.
  const matches = await Promise.all(accepted.map((t) => tokensEqual(token, t)));
  if (!matches.includes(true)) {
    await countAuthFailure(c);
    throw new ApiError("FORBIDDEN", "the token is neither the feedback token nor the admin token");
  }
}
