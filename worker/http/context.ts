/** What every handler can rely on: bindings, the request id, and the request's services. */
import type { Services } from "../services";

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; services: Services };
};
