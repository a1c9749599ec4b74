/** What every handler can rely on: bindings, the request id, and the request's services. */
import type { PredictResult } from "../predict/predict-rows";
import type { Services } from "../services";

/**
 * Set by every prediction route (REST, MLflow, OIP) once it has an answer, so request-level
 * observers (metrics) see what served without each route calling them.
 */
export interface ServedPrediction {
  result: PredictResult;
  /** production | canary | version | <alias>: which traffic arm answered. */
  arm: string;
  /** Date.now() just before predictRows. */
  startedAt: number;
}

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; services: Services; served?: ServedPrediction };
};
