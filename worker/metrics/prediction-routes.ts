/** Which requests are predictions, and what model and version their path names (the rest comes from ?alias= and settings). */
export interface PredictionRoute {
  name?: string;
  version?: string;
}

const PREDICTION_ROUTES: readonly RegExp[] = [
  /^\/predict$/,
  /^\/invocations$/,
  /^\/models\/(?<name>[^/]+)\/predict$/,
  /^\/models\/(?<name>[^/]+)\/versions\/(?<version>[^/]+)\/predict$/,
  /^\/models\/(?<name>[^/]+)\/invocations$/,
  /^\/v2\/models\/(?<name>[^/]+)(?:\/versions\/(?<version>[^/]+))?\/infer$/,
];

/** The prediction routes of api/predict.ts, api/mlflow.ts and api/open-inference.ts. */
export function predictionRoute(path: string): PredictionRoute | null {
  if (!(path.endsWith("/predict") || path.endsWith("/invocations") || path.endsWith("/infer"))) return null;
  for (const pattern of PREDICTION_ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const groups = match.groups ?? {};
    return { name: decoded(groups.name), version: decoded(groups.version) };
  }
  return null;
}

function decoded(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
