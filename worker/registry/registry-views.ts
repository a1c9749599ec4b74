/**
 * What the registry API answers, as zod schemas: the OpenAPI document is generated from them
 * (docs/), and the trainer's registry clients take their response types from them, so a field
 * renamed here fails the trainer's typecheck instead of drifting silently. No Hono here.
 */
import { z } from "zod";
import { manifestSchema } from "../contract/manifest";
import { VERSION_STATUSES } from "../db/schema";

const aliasMap = z.record(z.string(), z.int()).describe("alias name -> version");

export const modelListSchema = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      created_at: z.string(),
      latest_version: z.int().nullable(),
      version_count: z.int(),
      aliases: aliasMap,
    }),
  ),
});

const versionSummary = z.object({
  name: z.string(),
  version: z.int(),
  status: z.enum(VERSION_STATUSES),
  aliases: z.array(z.string()),
  sha256: z.string().describe("of model.onnx, checked whenever the artifact is loaded"),
  size_bytes: z.int(),
  created_at: z.string(),
  created_by: z.string(),
  source: z.string().nullable(),
  metrics: z.record(z.string(), z.unknown()).nullable().describe("null when the stored manifest does not parse"),
  manifest_error: z.string().optional().describe("why the stored manifest does not parse (the version is then unservable)"),
});

export const modelDetailSchema = z.object({
  name: z.string(),
  description: z.string(),
  created_at: z.string(),
  aliases: aliasMap,
  versions: z.array(versionSummary).describe("newest first"),
});

/** Golden inputs are training rows: only the admin token sees them (versions.ts manifestFor). */
const shownManifest = manifestSchema.extend({
  golden: z.array(
    z.object({
      input: manifestSchema.shape.golden.element.shape.input.optional().describe("only with the admin token"),
      probability: z.number(),
    }),
  ),
});

export const versionDetailSchema = versionSummary.extend({ manifest: shownManifest.nullable().describe("null when the stored manifest does not parse (see manifest_error)") });

const aliasMove = z.object({
  from: z.int().nullable().describe("null when the alias was created"),
  to: z.int().nullable().describe("null when the alias was removed"),
  at: z.string(),
  by: z.string(),
  reason: z.string(),
  evidence: z.record(z.string(), z.unknown()).nullable().describe("the JSON object given with the move, if any"),
});

export const aliasHistorySchema = z.object({
  name: z.string(),
  history: z.array(aliasMove.extend({ alias: z.string() })),
});

export const aliasMovesSchema = z.object({ name: z.string(), alias: z.string(), history: z.array(aliasMove).describe("oldest first") });

export const publishedVersionSchema = z.object({
  name: z.string(),
  version: z.int(),
  sha256: z.string(),
  aliases: z.array(z.object({ alias: z.string(), from: z.int().nullable(), to: z.int() })).describe("the aliases moved onto the new version"),
});

export const aliasChangeSchema = z.object({
  name: z.string(),
  alias: z.string(),
  from: z.int().nullable().describe("the version the alias pointed at before; null when it was created"),
  to: z.int().nullable().describe("the version it points at now; null when it was removed"),
});

export const archivedVersionSchema = z.object({
  name: z.string(),
  version: z.int(),
  status: z.literal("archived"),
  status_changed_at: z.string().nullable(),
  status_changed_by: z.string().nullable(),
  status_reason: z.string().nullable(),
});

/** GET /models/{name}/traffic and every traffic admin answer. */
export const trafficPolicySchema = z.object({
  name: z.string(),
  primary: z.object({ alias: z.string(), version: z.int().nullable().describe("what the default alias serves; null when it is unset") }),
  canary: z.object({ version: z.int(), percent: z.number().min(0).max(100) }).nullable().describe("null: no canary alias"),
  shadow: z.object({ version: z.int(), sample_rate: z.number().min(0).max(1) }).nullable().describe("null: no shadow alias"),
  entity_field: z.string().nullable(),
  updated_at: z.string().nullable(),
  updated_by: z.string().nullable(),
  reason: z.string().nullable(),
});

export const shadowReportSchema = z.object({
  name: z.string(),
  shadow_version: z.int().nullable().describe("the ?version filter, null without it"),
  summary: z.object({
    count: z.int().describe("stored pairs (within the retention window)"),
    agreement_rate: z.number().nullable().describe("share of pairs whose two decisions agree, each by its own version's threshold"),
    mean_abs_delta: z.number().nullable().describe("mean |primary_probability - shadow_probability|"),
    first_at: z.string().nullable(),
    last_at: z.string().nullable(),
  }),
  pairs: z.array(
    z.object({
      request_id: z.string(),
      row_index: z.int(),
      primary_version: z.int().describe("the version that answered the client"),
      shadow_version: z.int(),
      primary_probability: z.number(),
      shadow_probability: z.number(),
      primary_prediction: z.boolean(),
      shadow_prediction: z.boolean(),
      agree: z.boolean(),
      created_at: z.string(),
    }),
  ),
});
