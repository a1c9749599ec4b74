/**
 * Who may scrape GET /metrics. Unset METRICS_TOKEN leaves it open (the documented default for a
 * scrape endpoint). Set, it needs `Authorization: Bearer <METRICS_TOKEN>`: no token 401, a wrong one
 * 403, and those failures count against the same ADMIN_AUTH_FAILURES limiter as the admin API and
 * /feedback (429 past it), so /metrics is no faster place to guess at. A METRICS_TOKEN shorter than
 * MIN_SECRET_LENGTH is refused as configured, as feedback refuses its short tokens: /metrics is then
 * closed (500 MISCONFIGURED) rather than open, since whoever set a token meant it to be guarded.
 */
import type { Context } from "hono";
import { ApiError } from "../errors";
import { bearerToken, countAuthFailure, tokensEqual } from "./bearer-token";
import type { AppEnv } from "./context";
import { MIN_SECRET_LENGTH } from "../feedback/prediction-token";

export async function verifyMetricsRequest(c: Context<AppEnv>): Promise<void> {
  const expected = c.env.METRICS_TOKEN;
  if (!expected) return;
  if (expected.length < MIN_SECRET_LENGTH) {
    throw new ApiError(
      "MISCONFIGURED",
      `/metrics is closed: the METRICS_TOKEN secret is shorter than ${MIN_SECRET_LENGTH} characters (wrangler secret put METRICS_TOKEN; .dev.vars locally; unset it to leave /metrics open)`,
    );
  }
  const token = bearerToken(c.req.header("authorization"));
  if (!token) {
    await countAuthFailure(c);
    throw new ApiError("UNAUTHORIZED", "/metrics needs the metrics token: Authorization: Bearer <METRICS_TOKEN>");
  }
  if (!(await tokensEqual(token, expected))) {
    await countAuthFailure(c);
    throw new ApiError("FORBIDDEN", "the metrics token is not valid");
  }
}
