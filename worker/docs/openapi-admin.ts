/**
 * The admin API's part of the OpenAPI document: every route needs the bearer token (bearerAuth)
 * and records who (x-actor) and why.
 */
import { aliasMoveBodySchema, reasonBodySchema, rollbackBodySchema } from "../registry/admin-schemas";
import { type ErrorStatus, errors, jsonContent, nameParam, ok, operation, type OperationSpec, pathParam, ref, type Responses, TAGS, versionParam } from "./openapi-parts";
import * as shapes from "./openapi-schemas";
import * as views from "../registry/registry-views";

export const aliasPathParam = pathParam("alias", { type: "string", pattern: "^[A-Za-z][A-Za-z0-9_-]{0,62}$" }, "alias name, e.g. production");
const actorHeader = {
  name: "x-actor",
  in: "header",
  required: false,
  description: "who makes the change, recorded in the history (1-64 of A-Z a-z 0-9 . _ @ : + -); \"admin\" when absent",
  schema: { type: "string" },
};
/** Public reads that show raw training rows to the admin token only: the token is optional. */
export const optionalAdmin: Record<string, string[]>[] = [{}, { bearerAuth: [] }];
const adminMisconfigured = { "500": "internal error, or ADMIN_TOKEN is not configured (MISCONFIGURED: the admin API stays closed)" };

function admin(spec: Omit<OperationSpec, "tag" | "security">, failures: ErrorStatus[]) {
  return operation({
    ...spec,
    tag: TAGS.admin,
    security: [{ bearerAuth: [] }],
    parameters: [...(spec.parameters ?? []), actorHeader],
    responses: { ...spec.responses, ...errors("Error", ["401", "403", ...failures, "429", "500"], adminMisconfigured) },
  });
}

export function adminPaths() {
  const file = (description: string, mediaType: string) => ({ type: "string", contentMediaType: mediaType, description });
  const upload = {
    "multipart/form-data": {
      schema: {
        type: "object",
        required: ["model.onnx", "manifest.json"],
        properties: {
          "model.onnx": file("the ONNX graph", "application/octet-stream"),
          "manifest.json": file("the trainer's manifest; its name must be the path's {name}", "application/json"),
          "model-card.md": file("optional model card", "text/markdown"),
          "reference.json": file("optional drift reference (sampled training rows; served to the admin token only)", "application/json"),
          aliases: { type: "string", description: "optional comma-separated aliases to point at the new version in the same write" },
          reason: { type: "string", description: "recorded with those alias moves" },
        },
      },
    },
  };
  const change = (description: string) => ok(description, jsonContent(ref("AliasChange")));
  const adminJson = (id: string, summary: string, parameters: unknown[], request: string, responses: Responses, failures: ErrorStatus[] = ["400", "404", "409", "413", "422"]) =>
    admin({ id, summary, parameters, body: jsonContent(ref(request)), responses }, failures);
  return {
    "/admin/models/{name}/versions": {
      post: admin(
        {
          id: "adminPublishVersion",
          summary: "Publish a version: checksum, graph against manifest and golden rows are checked in the Worker's own ONNX runtime",
          description: "Needs Content-Length (411) and at most MAX_UPLOAD_BYTES (413). A failed check answers 422 with details.step and writes nothing.",
          parameters: [nameParam],
          body: upload,
          responses: { "201": { description: "the new version", content: jsonContent(ref("PublishedVersion")) } },
        },
        ["400", "411", "413", "422"],
      ),
    },
    "/admin/models/{name}/aliases/{alias}": {
      put: adminJson(
        "adminSetAlias",
        "Point an alias at a ready version (creating it if needed), recorded in the history with the evidence",
        [nameParam, aliasPathParam],
        "AliasMoveRequest",
        change("the move"),
      ),
      delete: adminJson("adminRemoveAlias", "Remove an alias, recorded in the history (to: null)", [nameParam, aliasPathParam], "ReasonRequest", change("the removal"), [
        "400",
        "404",
        "413",
        "422",
      ]),
    },
    "/admin/models/{name}/rollback": {
      post: adminJson("adminRollback", "Move an alias (default production) back to the version its latest move came from", [nameParam], "RollbackRequest", change("the move back")),
    },
    "/admin/models/{name}/versions/{version}/archive": {
      post: adminJson(
        "adminArchiveVersion",
        "Retire a version for good; refused (409) while an alias points at it",
        [nameParam, versionParam],
        "ReasonRequest",
        ok("the archived version", jsonContent(ref("ArchivedVersion"))),
      ),
    },
  };
}

/** The admin routes' request and response bodies, under #/components/schemas. */
export function adminComponents() {
  return {
    PublishedVersion: shapes.jsonSchema(views.publishedVersionSchema),
    AliasChange: shapes.jsonSchema(views.aliasChangeSchema),
    ArchivedVersion: shapes.jsonSchema(views.archivedVersionSchema),
    AliasMoveRequest: shapes.jsonSchema(aliasMoveBodySchema),
    ReasonRequest: shapes.jsonSchema(reasonBodySchema),
    RollbackRequest: shapes.jsonSchema(rollbackBodySchema),
  };
}
