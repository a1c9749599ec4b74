/**
 * The OpenAPI document through a maintained OpenAPI 3.1 validator (@readme/openapi-parser), and
 * its schemas through ajv's JSON Schema 2020-12 mode, which OpenAPI 3.1 uses. Node, not workerd:
 * ajv generates code with `new Function`, which workerd forbids. test/workers/openapi.test.ts checks
 * the same document against the running app.
 */
import { compileErrors, validate } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../worker/contract/manifest";
import { buildOpenApi, type OpenApiDocument } from "../../worker/docs/openapi";
import { buildFixtureModels } from "../fixtures/fixture-models";

const settings = { defaultModel: "churn-classifier", defaultAlias: "production", maxBatchRows: 3 };
let manifest: Manifest;

beforeAll(async () => {
  manifest = (await buildFixtureModels()).find((f) => f.name === "churn-forest")!.manifest;
});

async function problems(doc: unknown): Promise<string> {
  // validate() dereferences in place.
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  return result.valid && result.warnings.length === 0 ? "" : compileErrors(result);
}

describe("OpenAPI 3.1 validity", () => {
  it("passes the validator with a default model, and without one", async () => {
    expect(await problems(buildOpenApi(manifest, settings))).toBe("");
    expect(await problems(buildOpenApi(null, settings))).toBe("");
  });

  it("is a validator that rejects what the spec rejects", async () => {
    const undeclared = structuredClone(buildOpenApi(manifest, settings));
    undeclared.paths["/models/{name}"].get.parameters = [];
    expect(await problems(undeclared)).toMatch(/path parameter/i);
    const noDescription = structuredClone(buildOpenApi(manifest, settings)) as unknown as { paths: Record<string, { get?: { responses: Record<string, { description?: string }> } }> };
    delete noDescription.paths["/health"]!.get!.responses["200"]!.description;
    expect(await problems(noDescription)).toMatch(/description/);
  });
});

/** One ajv holding every component under $defs, so component $refs resolve as they do in the document. */
function compileComponents(doc: OpenApiDocument) {
  // strict: an unknown keyword (OpenAPI 3.0's nullable, a typo) is an error, not ignored. Union
  // types (`type: ["number", "null"]`) are plain 2020-12, which ajv's strict mode frowns on.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  // ajv knows OpenAPI 3.0's nullable; JSON Schema 2020-12 (so OpenAPI 3.1) does not.
  ajv.removeKeyword("nullable");
  // Formats (date-time, ...) are checked by ajv-formats, so strict mode still refuses an unknown one.
  addFormats(ajv);
  const defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'));
  ajv.addSchema({ $id: "urn:edge-mlops:components", $defs: defs });
  return (component: string) => {
    const check = ajv.getSchema(`urn:edge-mlops:components#/$defs/${component}`);
    if (!check) throw new Error(`no component ${component}`);
    return (value: unknown) => (check(value) ? "" : ajv.errorsText(check.errors));
  };
}

describe("JSON Schema 2020-12 components", () => {
  it("compiles every component in strict mode: no nullable, no unknown keywords", () => {
    for (const doc of [buildOpenApi(manifest, settings), buildOpenApi(null, settings)]) {
      const schemaOf = compileComponents(doc);
      for (const name of Object.keys(doc.components.schemas)) expect(() => schemaOf(name), name).not.toThrow();
    }
    const legacy = structuredClone(buildOpenApi(manifest, settings));
    (legacy.components.schemas.Row as { properties: Record<string, object> }).properties.total_charges = { type: "number", nullable: true };
    expect(() => compileComponents(legacy)("Row")).toThrow(/unknown keyword: "nullable"/);
    (legacy.components.schemas.Row as { properties: Record<string, object> }).properties.total_charges = { type: "number", minimun: 0 };
    expect(() => compileComponents(legacy)("Row")).toThrow(/unknown keyword: "minimun"/);
  });

  it("accepts the manifest's golden rows, and the document's own examples, in every request format", () => {
    const doc = buildOpenApi(manifest, settings);
    const schemaOf = compileComponents(doc);
    const row = schemaOf("Row");
    expect(manifest.golden.some((g) => g.input.total_charges === null)).toBe(true);
    for (const g of manifest.golden) expect(row(g.input)).toBe("");

    let examples = 0;
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item) as { requestBody?: { content: Record<string, { schema: { $ref?: string; anyOf?: { $ref: string }[] }; example?: unknown; examples?: Record<string, { value: unknown }> }> } }[]) {
        const body = op.requestBody?.content["application/json"];
        if (!body) continue;
        const refs = body.schema.$ref ? [body.schema.$ref] : (body.schema.anyOf ?? []).map((s) => s.$ref);
        const checks = refs.map((r) => schemaOf(r.split("/").pop()!));
        const values = [...(body.example === undefined ? [] : [body.example]), ...Object.values(body.examples ?? {}).map((e) => e.value)];
        for (const value of values) {
          expect(checks.some((check) => check(value) === ""), JSON.stringify(value)).toBe(true);
          examples++;
        }
      }
    }
    expect(examples).toBeGreaterThanOrEqual(10);
  });

  it("rejects what the server rejects: a bad value, two MLflow formats, a batch over the limit, an empty OIP request", () => {
    const schemaOf = compileComponents(buildOpenApi(manifest, settings));
    const good = manifest.golden[0]!.input;
    expect(schemaOf("Row")({ ...good, tenure: -1 })).toMatch(/minimum|>= 0/);
    expect(schemaOf("Row")({ ...good, contract_type: "Weekly" })).toMatch(/allowed values/);
    const { tenure: _, ...missing } = good;
    expect(schemaOf("Row")(missing)).toMatch(/required property 'tenure'/);
    expect(schemaOf("MlflowRequest")({ instances: [good] })).toBe("");
    expect(schemaOf("MlflowRequest")({ dataframe_split: { columns: ["tenure"], data: [[1]] } })).toBe("");
    expect(schemaOf("MlflowRequest")({ inputs: { tenure: [1, 2] } })).toBe("");
    expect(schemaOf("MlflowRequest")({ instances: [good], dataframe_records: [good] })).toMatch(/oneOf/);
    expect(schemaOf("MlflowRequest")({ rows: [good] })).not.toBe("");
    expect(schemaOf("BatchRequest")({ instances: Array(settings.maxBatchRows).fill(good) })).toBe("");
    expect(schemaOf("BatchRequest")({ instances: Array(settings.maxBatchRows + 1).fill(good) })).toMatch(/more than 3 items/);
    expect(schemaOf("OipInferRequest")({ inputs: [] })).toMatch(/fewer than 1 items/);
  });
});
