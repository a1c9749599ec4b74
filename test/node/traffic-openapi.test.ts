/**
 * The traffic part of the OpenAPI document, merged into the full document as the lead wires it,
 * through the OpenAPI 3.1 validator, and its components compiled by ajv in strict 2020-12 mode.
 */
import { compileErrors, validate } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { buildOpenApi } from "../../worker/docs/openapi";
import { trafficComponents, trafficPaths } from "../../worker/docs/openapi-traffic";

const settings = { defaultModel: "churn-classifier", defaultAlias: "production", maxBatchRows: 3 };

describe("openapi-traffic", () => {
  it("passes the validator once merged into the document", async () => {
    const doc = structuredClone(buildOpenApi(null, settings)) as unknown as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    Object.assign(doc.paths, trafficPaths());
    Object.assign(doc.components.schemas, trafficComponents());
    const result = await validate(doc as Parameters<typeof validate>[0]);
    expect(result.valid && result.warnings.length === 0 ? "" : compileErrors(result)).toBe("");
  });

  it("its components compile in strict JSON Schema 2020-12 and accept a real-shaped policy", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    const schemas = trafficComponents();
    for (const [name, schema] of Object.entries(schemas)) expect(() => ajv.compile(schema), name).not.toThrow();
    const policy = ajv.compile(schemas.TrafficPolicy);
    const sample = { name: "m", primary: { alias: "production", version: 1 }, canary: { version: 2, percent: 20 }, shadow: null, entity_field: null, updated_at: null, updated_by: null, reason: null };
    expect(policy(sample), ajv.errorsText(policy.errors)).toBe(true);
    expect(policy({ ...sample, canary: { version: 2, percent: 120 } })).toBe(false);
  });
});
