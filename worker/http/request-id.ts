import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { readSettings } from "./context";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a sane client-supplied x-request-id, otherwise mints one; every response carries it. */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && CLIENT_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  c.set("settings", readSettings(c.env));
  await next();
  c.header("x-request-id", requestId);
});
