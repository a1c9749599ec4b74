/**
 * The traffic part of the OpenAPI document: the public policy read, the admin routes that set and
 * clear canary and shadow arms, the shadow's paired outputs, and the headers traffic adds to
 * prediction routes, and the rollouts (`rolloutPaths()`). Wire `trafficPaths()` into paths, `trafficComponents()` into
 * components.schemas, `modelArmHeader` into the prediction responses' headers and
 * `entityIdHeader` into the prediction operations' parameters.
 */
import { z } from "zod";
import { MAX_ENTITY_LENGTH } from "../traffic/split";
import { shadowReportSchema, trafficPolicySchema } from "../registry/registry-views";
import { shadowQuerySchema, trafficBodySchema } from "../registry/traffic-schemas";
import { errors, jsonContent, nameParam, ok, operation, pathParam, ref, TAGS } from "./openapi-parts";
import { rolloutBodySchema, rolloutHistorySchema, rolloutViewSchema } from "../rollouts/rollouts";
import * as shapes from "./openapi-schemas";

export const modelArmHeader = {
  "x-model-arm": {
    description: "primary or canary: which arm of the model's traffic policy answered; absent when the request named its version or ?alias",
    schema: { type: "string", enum: ["primary", "canary"] },
  },
  "x-canary-fallback": {
    description: "1 when the traffic split chose the canary, the canary failed on the server side (unavailable, failed load, non-finite output), and the primary answered instead; the failure counts against the canary in /metrics",
    schema: { type: "string", enum: ["1"] },
  },
};

export const entityIdHeader = {
  name: "x-entity-id",
  in: "header",
  required: false,
  description: `keeps this entity (e.g. a customer id) on one arm of a canary split; else the policy's entity_field in the rows; else random (at most ${MAX_ENTITY_LENGTH} characters)`,
  schema: { type: "string", maxLength: MAX_ENTITY_LENGTH },
};

const bearer = [{ bearerAuth: [] }];
const who = { name: "x-actor", in: "header", required: false, description: "who makes the change, recorded in the history; \"admin\" when absent", schema: { type: "string" } };
const failures = (statuses: Parameters<typeof errors>[1]) => errors("Error", ["401", "403", ...statuses, "429", "500"]);

export function trafficPaths() {
  const policy = (description: string) => ok(description, jsonContent(ref("TrafficPolicy")));
  const change = (id: string, summary: string, description: string, body: string) =>
    operation({
      tag: TAGS.admin,
      id,
      summary,
      description,
      parameters: [nameParam, who],
      body: jsonContent(ref(body)),
      security: bearer,
      responses: { ...policy("the policy after the change"), ...failures(["400", "404", "409", "413", "422"]) },
    });
  return {
    "/models/{name}/traffic": {
      get: operation({
        tag: TAGS.registry,
        id: "getTraffic",
        summary: "A model's traffic policy: the version the default alias serves, the canary and shadow arms, the entity field",
        parameters: [nameParam],
        responses: { ...policy("the policy, read from D1 (an isolate routes by it within RESOLVE_CACHE_TTL_MS)"), ...errors("Error", ["404", "500"]) },
      }),
    },
    "/admin/models/{name}/traffic": {
      put: change(
        "adminSetTraffic",
        "Set the canary and/or shadow arm and the entity field",
        [
          "An absent key leaves that part as it is; null removes the arm (its alias is deleted).",
          "The arms are the model's `canary` and `shadow` aliases, moved in the alias history with the percent or sample rate as evidence;",
          "the alias moves and the policy are one D1 write, so a refusal (a missing, archived or unready version, a value out of range) writes nothing.",
          "Only requests that name neither a version nor an alias are split and shadowed.",
        ].join(" "),
        "TrafficChangeRequest",
      ),
      delete: change("adminClearTraffic", "Remove both arms (recorded in the alias history)", "The entity field is kept.", "ReasonRequest"),
    },
    "/admin/models/{name}/shadow": {
      get: operation({
        tag: TAGS.admin,
        id: "adminShadowPairs",
        summary: "The shadow's paired outputs, latest first, and their agreement",
        parameters: [
          nameParam,
          ...Object.entries(shapes.jsonSchema(shadowQuerySchema).properties as Record<string, Record<string, unknown>>).map(([name, schema]) => ({
            name,
            in: "query",
            required: false,
            description: schema.description,
            schema,
          })),
        ],
        security: bearer,
        responses: { ...ok("pairs and summary", jsonContent(ref("ShadowReport"))), ...failures(["404", "422"]) },
      }),
    },
  };
}

export function rolloutPaths() {
  const rollout = (description: string, status = "200") => ({ [status]: { description, content: jsonContent(ref("Rollout")) } });
  return {
    "/admin/models/{name}/rollouts": {
      post: operation({
        tag: TAGS.admin,
        id: "adminStartRollout",
        summary: "Start a rollout: ramp a version through the canary step by step, judged against the primary by the minute cron",
        description: [
          "Each step sets the canary's percent (an alias move with evidence in the alias history). Every minute the cron compares canary and primary on the step's window:",
          "server error rate, p95 latency, PSI of sampled scores, and realized ROC AUC once labels arrive; fewer than min_requests on either arm waits.",
          "A failed check aborts (the canary is cleared, the evidence stored, the alert webhook called); after step_minutes a passing step moves on; after the last step the default alias moves to the version.",
          "Refusals (unknown, archived or unready version, the version already serving, a rollout already active, steps not increasing) write nothing.",
        ].join(" "),
        parameters: [nameParam, who],
        body: jsonContent(ref("RolloutRequest")),
        security: bearer,
        responses: { ...rollout("the rollout, at its first step", "201"), ...failures(["400", "404", "409", "413", "422"]) },
      }),
    },
    "/admin/models/{name}/rollouts/{id}/abort": {
      post: operation({
        tag: TAGS.admin,
        id: "adminAbortRollout",
        summary: "Abort an active rollout: the canary is cleared, with the reason in its alias history",
        parameters: [nameParam, pathParam("id", { type: "integer", minimum: 1 }, "the rollout's id"), who],
        body: jsonContent(ref("ReasonRequest")),
        security: bearer,
        responses: { ...rollout("the rollout, aborted"), ...failures(["400", "404", "409", "413", "422"]) },
      }),
    },
    "/models/{name}/rollouts/current": {
      get: operation({
        tag: TAGS.registry,
        id: "getCurrentRollout",
        summary: "The active rollout: its step, the latest check of each criterion with both arms' numbers, and its timeline",
        parameters: [nameParam],
        responses: { ...rollout("the active rollout"), ...errors("Error", ["404", "500"]) },
      }),
    },
    "/models/{name}/rollouts": {
      get: operation({
        tag: TAGS.registry,
        id: "getRollouts",
        summary: "A model's rollouts, latest first (at most 50)",
        parameters: [nameParam],
        responses: { ...ok("rollouts", jsonContent(ref("RolloutHistory"))), ...errors("Error", ["404", "500"]) },
      }),
    },
  };
}

export function trafficComponents() {
  return {
    Rollout: shapes.jsonSchema(rolloutViewSchema),
    RolloutHistory: shapes.jsonSchema(rolloutHistorySchema),
    RolloutRequest: shapes.jsonSchema(rolloutBodySchema),
    TrafficPolicy: shapes.jsonSchema(trafficPolicySchema),
    ShadowReport: shapes.jsonSchema(shadowReportSchema),
    TrafficChangeRequest: shapes.jsonSchema(trafficBodySchema),
  };
}
