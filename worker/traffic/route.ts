/**
 * Which version answers a prediction request under the model's traffic policy. Only a request that
 * resolves through the default alias (no explicit version, no ?alias) is routed: the canary split
 * may send it to the canary version, and the shadow version is named for scoring after the
 * response. Explicit requests are answered by what they name, never split, never shadowed.
 */
import { ApiError } from "../errors";
import { armOf } from "../monitoring/sample-requests";
import { resolvePolicyCached } from "../registry/resolve-cache";
import type { VersionRef } from "../registry/version-ref";
import type { Services } from "../services";
import { type Arm, chooseArm, entityOf, MAX_ENTITY_LENGTH } from "./split";

export interface Route {
  /** What predictRows resolves: the request's own ref, or the canary version. */
  ref: VersionRef;
  /** primary | canary for a routed request (the x-model-arm header); null for an explicit one. */
  arm: Arm | null;
  /** The arm recorded with samples and metrics (armOf). */
  recordedArm: string;
  /** The version that scores the request after the response, with its pair sample rate. */
  shadow: { version: number; sampleRate: number } | null;
}

export interface RoutingInput {
  name: string;
  ref: VersionRef;
  /** False when the request named its version or alias: it is answered by what it named. */
  routed: boolean;
  rows: readonly unknown[];
  entityHeader: string | undefined;
}

export async function routeRequest(services: Pick<Services, "db" | "settings">, input: RoutingInput): Promise<Route> {
  const { settings } = services;
  const { name, ref, rows, entityHeader } = input;
  if (!input.routed || "version" in ref || ref.alias !== settings.defaultAlias) {
    return { ref, arm: null, recordedArm: armOf(ref, settings.defaultAlias), shadow: null };
  }
  if (entityHeader !== undefined && entityHeader.length > MAX_ENTITY_LENGTH) {
    throw new ApiError("VALIDATION_FAILED", `x-entity-id: at most ${MAX_ENTITY_LENGTH} characters`, {
      issues: [{ field: "x-entity-id", message: `at most ${MAX_ENTITY_LENGTH} characters` }],
    });
  }
  const policy = await resolvePolicyCached(services.db, name, settings.resolveTtlMs);
  const canary = policy.canary;
  const arm: Arm = canary && canary.percent > 0 ? chooseArm(name, canary.percent, entityOf(rows, entityHeader, policy.entityField)) : "primary";
  return {
    ref: arm === "canary" ? { version: canary!.version } : ref,
    arm,
    recordedArm: armOf(ref, settings.defaultAlias, arm),
    shadow: policy.shadow,
  };
}
