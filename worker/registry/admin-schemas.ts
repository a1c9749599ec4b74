/**
 * Request bodies of the admin API, as zod schemas: the routes parse with them (a rejection names
 * each failing field, 422) and the OpenAPI document is generated from them. No Hono here.
 */
import { z } from "zod";
import { ALIAS_NAME } from "./version-ref";

const reason = z.string().trim().min(1, { error: "say why (it is recorded in the history)" }).max(1000);

export const aliasMoveBodySchema = z.object({
  version: z.int().min(1).describe("the ready version the alias will point at"),
  reason,
  evidence: z.record(z.string(), z.unknown()).optional().describe("any JSON object supporting the move (e.g. the evaluation gate's AUCs), stored with the history row"),
});

export const reasonBodySchema = z.object({ reason });

export const rollbackBodySchema = z.object({
  alias: z.string().regex(ALIAS_NAME, { error: "not a valid alias name" }).optional().describe("defaults to the Worker's DEFAULT_ALIAS (production)"),
  reason,
});

/** Who made a change, from the optional x-actor header; "admin" when absent. */
export const actorSchema = z
  .string()
  .regex(/^[A-Za-z0-9._@:+-]{1,64}$/, { error: "x-actor must be 1-64 characters from A-Z a-z 0-9 . _ @ : + -" })
  .default("admin");
