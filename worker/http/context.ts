/** What every handler can rely on: bindings, the request ids, and the request's services. */
import type { PredictResult } from "../scoring/predict-rows";
import type { VersionRef } from "../registry/version-ref";
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

/**
 * Set by every prediction route once the traffic policy chose the version, before scoring: so a
 * request that then fails (a 422 on its rows, a 503 of its version) is still counted against the
 * arm and version that would have answered it.
 */
export interface RoutedPrediction {
  name: string;
  ref: VersionRef;
  /** As ServedPrediction.arm. */
  arm: string;
}

export type AppEnv = {
  Bindings: Env;
  Variables: {
    /** Minted by the Worker for this request: the id labels join on. */
    requestId: string;
    /** The client's own x-request-id when it sent a sane one: kept, never trusted to be unique. */
    clientRequestId: string | null;
    services: Services;
    served?: ServedPrediction;
    routed?: RoutedPrediction;
  };
};
