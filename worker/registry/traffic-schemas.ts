/**
 * Request bodies and queries of the traffic API, as zod schemas: the routes parse with them (a
 * rejection names each failing field, 422) and the OpenAPI document is generated from them.
 */
import { z } from "zod";
import { reasonBodySchema } from "./admin-schemas";

const version = z.int().min(1).max(999_999_999).describe("a ready version of the model");

/** A request field name (e.g. customer_id); it need not be a model feature: rows may carry extra fields. */
export const ENTITY_FIELD = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export const trafficBodySchema = z
  .object({
    canary: z
      .object({ version, percent: z.number().min(0).max(100).describe("share of default-alias requests the canary answers, 0-100") })
      .strict()
      .nullable()
      .optional()
      .describe("null removes the canary (its alias is deleted); absent leaves it as it is"),
    shadow: z
      .object({ version, sample_rate: z.number().min(0).max(1).describe("share of requests whose paired outputs are stored, 0-1") })
      .strict()
      .nullable()
      .optional()
      .describe("null removes the shadow; absent leaves it as it is"),
    entity_field: z
      .string()
      .regex(ENTITY_FIELD, { error: "a field name: a letter or _, then up to 63 of A-Z a-z 0-9 _ . -" })
      .nullable()
      .optional()
      .describe("request field whose value keeps an entity on one arm (x-entity-id wins); null: the header only"),
    reason: reasonBodySchema.shape.reason,
  })
  .strict()
  .refine((b) => b.canary !== undefined || b.shadow !== undefined || b.entity_field !== undefined, {
    error: "nothing to change: give canary, shadow or entity_field",
    path: ["canary"],
  });

export type TrafficBody = z.output<typeof trafficBodySchema>;

export const shadowQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe("latest pairs returned (1-1000, default 100)"),
  version: z.coerce.number().int().min(1).max(999_999_999).optional().describe("only pairs of this shadow version"),
});
