import { createMiddleware } from "hono/factory";
import { REQUEST_ID_PATTERN } from "../contract/request-ids";
import { createServices } from "../services";
import type { AppEnv } from "./context";

/**
 * Mints the request's id (a UUID; every response carries it as x-request-id) and builds the
 * request's services once. The id is the Worker's own because labels join on it: a client's
 * x-request-id can be reused by retries or by anyone, so a sane one is only kept beside it (stored
 * with sampled rows, logged) and echoed as x-client-request-id.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const requestId = crypto.randomUUID();
  const incoming = c.req.header("x-request-id");
  const clientRequestId = incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : null;
  c.set("requestId", requestId);
  c.set("clientRequestId", clientRequestId);
  c.set("services", createServices(c.env, executionContext(c)));
  await next();
  c.header("x-request-id", requestId);
  if (clientRequestId !== null) c.header("x-client-request-id", clientRequestId);
});

/** Hono throws when a request came without an execution context (e.g. `app.request` in a test). */
function executionContext(c: { executionCtx: Pick<ExecutionContext, "waitUntil"> }): Pick<ExecutionContext, "waitUntil"> | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
