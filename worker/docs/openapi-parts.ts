/**
 * The building blocks of the OpenAPI document (openapi.ts) and its admin section
 * (openapi-admin.ts): tags, error responses in the service's envelope, operations, shared parameters.
 */
export const TAGS = {
  prediction: "Prediction",
  mlflow: "Protocols: MLflow",
  oip: "Protocols: Open Inference",
  registry: "Registry",
  admin: "Admin",
  monitoring: "Monitoring",
  health: "Health",
  docs: "Docs",
} as const;

export type Schema = Record<string, unknown>;
export type Responses = Record<string, unknown>;

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const jsonContent = (schema: Schema, extra: Schema = {}) => ({ "application/json": { schema, ...extra } });
export const pathParam = (name: string, schema: Schema, description?: string) => ({ name, in: "path", required: true, ...(description ? { description } : {}), schema });

const ERROR_DESCRIPTIONS = {
  "400": "malformed JSON, wrong content type or empty body",
  "401": "no admin token (Authorization: Bearer <ADMIN_TOKEN>)",
  "403": "the admin token is wrong",
  "404": "unknown model, version or alias, or an archived version",
  "409": "the registry's state refuses the change; the message says why",
  "411": "no Content-Length header",
  "413": "body over the size limit",
  "422": "schema violation; details.issues names every failing field",
  "429": "too many failed admin authentications from this client",
  "500": "internal error, a model answering NaN or Infinity (NON_FINITE_OUTPUT), or a misconfigured Worker var; the request id identifies it in the logs",
  "503": "the version cannot serve now (pending, failed, or its artifact or manifest does not load); other versions keep serving",
} as const;
export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** Error responses in the service's envelope, or in the Open Inference Protocol's `{error}` shape. */
export function errors(envelope: "Error" | "OipError", statuses: ErrorStatus[], overrides: Partial<Record<ErrorStatus, string>> = {}): Responses {
  const retryAfter = { "retry-after": { description: "seconds until a retry can succeed", schema: { type: "integer" } } };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: overrides[status] ?? ERROR_DESCRIPTIONS[status],
        ...(status === "503" || status === "429" ? { headers: retryAfter } : {}),
        content: jsonContent(ref(envelope)),
      },
    ]),
  );
}

export function ok(description: string, content: Schema, headers?: Schema): Responses {
  return { "200": { description, ...(headers ? { headers } : {}), content } };
}

export interface OperationSpec {
  tag: string;
  id: string;
  summary: string;
  description?: string;
  parameters?: unknown[];
  body?: Schema;
  responses: Responses;
  security?: Record<string, string[]>[];
}

export function operation(spec: OperationSpec) {
  return {
    tags: [spec.tag],
    operationId: spec.id,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.parameters?.length ? { parameters: spec.parameters } : {}),
    ...(spec.body ? { requestBody: { required: true, content: spec.body } } : {}),
    ...(spec.security ? { security: spec.security } : {}),
    responses: spec.responses,
  };
}

export const nameParam = pathParam("name", { type: "string" }, "registered model name");
export const versionParam = pathParam("version", { type: "integer", minimum: 1, maximum: 999_999_999 }, "version number, as listed by GET /models/{name}");
