import { createMiddleware } from "hono/factory";
import { createServices } from "../services";
import type { AppEnv } from "./context";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Echoes a sane client-supplied x-request-id, otherwise mints one (every response carries it), and
 * builds the request's services once.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && CLIENT_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  c.set("services", createServices(c.env, executionContext(c)));
  await next();
  c.header("x-request-id", requestId);
});

/** Hono throws when a request came without an execution context (e.g. `app.request` in a test). */
function executionContext(c: { executionCtx: Pick<ExecutionContext, "waitUntil"> }): Pick<ExecutionContext, "waitUntil"> | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
