/**
 * Bad input gets a clear error: 400 for malformed JSON / content type, 413 for big bodies, 422 naming
 * every failing field (the reference FastAPI service's pydantic cases, and numbers outside float32), 404 for unknown
 * models, versions and aliases. None of these reach inference.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { type Envelope, failingFields, get, postJson, registerFixture, VALID_ROW } from "./helpers";

let name: string;

beforeAll(async () => {
  ({ manifest: { name } } = await registerFixture("forest"));
});

async function expectError(res: Response, status: number, code: string): Promise<Envelope> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Envelope;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

describe("400: malformed requests", () => {
  it("rejects malformed JSON", async () => {
    const body = await expectError(await postJson(`/models/${name}/predict`, '{"tenure": 12,'), 400, "BAD_REQUEST");
    expect(body.error.message).toMatch(/malformed JSON/);
  });

  it("rejects a non-JSON content type", async () => {
    const res = await postJson(`/models/${name}/predict`, JSON.stringify(VALID_ROW), { "content-type": "text/plain" });
    const body = await expectError(res, 400, "BAD_REQUEST");
    expect(body.error.message).toMatch(/Content-Type must be application\/json/);
  });

  it("rejects an empty body", async () => {
    await expectError(await postJson(`/models/${name}/predict`, ""), 400, "BAD_REQUEST");
  });
});

describe("413: oversized bodies", () => {
  it("rejects a declared Content-Length over the limit", async () => {
    const big = JSON.stringify({ instances: Array.from({ length: 2000 }, () => VALID_ROW) });
    expect(big.length).toBeGreaterThan(65_536);
    const body = await expectError(await postJson(`/models/${name}/predict`, big), 413, "PAYLOAD_TOO_LARGE");
    expect(body.error.details).toMatchObject({ limit_bytes: 65_536 });
  });

  it("rejects a streamed body without Content-Length once it passes the limit", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(16_384));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const { SELF } = await import("cloudflare:test");
    const res = await SELF.fetch(`https://edge.test/models/${name}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });
});

describe("422: schema violations name every failing field", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["invalid contract type (pydantic case)", { ...VALID_ROW, contract_type: "Weekly" }, ["contract_type"]],
    ["negative tenure (pydantic case)", { ...VALID_ROW, tenure: -5 }, ["tenure"]],
    ["num_products above 10", { ...VALID_ROW, num_products: 11 }, ["num_products"]],
    ["num_products below 1", { ...VALID_ROW, num_products: 0 }, ["num_products"]],
    ["num_products not an integer", { ...VALID_ROW, num_products: 2.5 }, ["num_products"]],
    ["a number sent as a string", { ...VALID_ROW, monthly_charges: "70" }, ["monthly_charges"]],
    ["a category sent as a number", { ...VALID_ROW, payment_method: 3 }, ["payment_method"]],
  ];
  for (const [title, row, fields] of cases) {
    it(title, async () => {
      const body = await expectError(await postJson(`/models/${name}/predict`, row), 422, "VALIDATION_FAILED");
      expect(failingFields(body)).toEqual(fields);
    });
  }

  it("numbers finite in JSON but not in float32 (the graph's input type)", async () => {
    const body = await expectError(await postJson(`/models/${name}/predict`, { ...VALID_ROW, tenure: 1e39, monthly_charges: -1e39 }), 422, "VALIDATION_FAILED");
    expect(failingFields(body)).toEqual(["monthly_charges", "tenure"]);
    const messages = Object.fromEntries(body.error.details!.issues!.map((i) => [i.field, i.message]));
    expect(messages.tenure).toBe("must fit in float32 (|x| <= 3.4028234663852886e38)");
    expect(messages.monthly_charges).toBe("must fit in float32 (|x| <= 3.4028234663852886e38)");
    const batch = await expectError(await postJson(`/models/${name}/predict`, { instances: [VALID_ROW, { ...VALID_ROW, total_charges: 4e38 }] }), 422, "VALIDATION_FAILED");
    expect(failingFields(batch)).toEqual(["instances[1].total_charges"]);
  });

  it("category values are trimmed before a closed set is checked, as the trainer reads them", async () => {
    const res = await postJson(`/models/${name}/predict`, { ...VALID_ROW, contract_type: " One year " });
    expect(res.status).toBe(200);
    const body = await expectError(await postJson(`/models/${name}/predict`, { ...VALID_ROW, contract_type: " Weekly " }), 422, "VALIDATION_FAILED");
    expect(body.error.details!.issues![0]!.message).toMatch(/got "Weekly"/);
  });

  it("names every failing field at once, including missing ones", async () => {
    const { tenure: _t, internet_service: _i, ...partial } = VALID_ROW;
    const row = { ...partial, contract_type: "Weekly", num_products: 0 };
    const body = await expectError(await postJson(`/models/${name}/predict`, row), 422, "VALIDATION_FAILED");
    expect(failingFields(body)).toEqual(["contract_type", "internet_service", "num_products", "tenure"]);
    const messages = Object.fromEntries(body.error.details!.issues!.map((i) => [i.field, i.message]));
    expect(messages.tenure).toBe("required");
    expect(messages.contract_type).toMatch(/one of: Month-to-month, One year, Two year/);
    expect(body.error.message).toMatch(/4 invalid fields/);
  });

  it("a non-object body is one clear issue", async () => {
    const body = await expectError(await postJson(`/models/${name}/predict`, [1, 2]), 422, "VALIDATION_FAILED");
    expect(failingFields(body)).toEqual(["body"]);
  });

  it("names failing rows of a batch by index", async () => {
    const instances = [VALID_ROW, { ...VALID_ROW, tenure: -1 }, VALID_ROW, { ...VALID_ROW, contract_type: "Weekly" }];
    const body = await expectError(await postJson(`/models/${name}/predict`, { instances }), 422, "VALIDATION_FAILED");
    expect(failingFields(body)).toEqual(["instances[1].tenure", "instances[3].contract_type"]);
  });

  it("rejects a batch over the configured maximum, naming the limit", async () => {
    const instances = Array.from({ length: 51 }, () => VALID_ROW);
    const body = await expectError(await postJson(`/models/${name}/predict`, { instances }), 422, "VALIDATION_FAILED");
    expect(body.error.message).toMatch(/51 rows exceeds the maximum of 50/);
    expect(body.error.details).toMatchObject({ max_rows: 50 });
  });

  it("rejects an empty batch and a non-array instances", async () => {
    await expectError(await postJson(`/models/${name}/predict`, { instances: [] }), 422, "VALIDATION_FAILED");
    await expectError(await postJson(`/models/${name}/predict`, { instances: {} }), 422, "VALIDATION_FAILED");
  });
});

describe("404: unknown things", () => {
  it("unknown model", async () => {
    const body = await expectError(await postJson("/models/no-such-model/predict", VALID_ROW), 404, "NOT_FOUND");
    expect(body.error.message).toMatch(/no-such-model is not registered/);
  });

  it("unknown version, malformed version and unknown alias", async () => {
    expect((await postJson(`/models/${name}/versions/99/predict`, VALID_ROW)).status).toBe(404);
    expect((await postJson(`/models/${name}/versions/abc/predict`, VALID_ROW)).status).toBe(404);
    const body = await expectError(await postJson(`/models/${name}/predict?alias=canary`, VALID_ROW), 404, "NOT_FOUND");
    expect(body.error.message).toMatch(/alias 'canary'/);
  });

  it("the default model is missing until one is registered under its name", async () => {
    expect(env.DEFAULT_MODEL).toBe("churn-classifier");
    await expectError(await postJson("/predict", VALID_ROW), 404, "NOT_FOUND");
  });

  it("unknown route, in the same envelope", async () => {
    await expectError(await get("/nope"), 404, "NOT_FOUND");
  });
});

describe("CORS", () => {
  it("answers a browser preflight and exposes the id and model headers", async () => {
    const { SELF } = await import("cloudflare:test");
    const preflight = await SELF.fetch("https://edge.test/predict", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toMatch(/POST/);
    const res = await postJson(`/models/${name}/predict`, "{", { origin: "https://app.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toMatch(/x-request-id/);
    expect(res.headers.get("access-control-expose-headers")).toMatch(/x-client-request-id/);
  });
});

describe("request ids", () => {
  it("mints every request's id, and echoes a client's own x-request-id beside it as x-client-request-id", async () => {
    const echoed = await postJson(`/models/${name}/predict`, "{", { "x-request-id": "client-abc.123" });
    const minted = echoed.headers.get("x-request-id");
    expect(minted).toMatch(/^[0-9a-f-]{36}$/);
    expect(echoed.headers.get("x-client-request-id")).toBe("client-abc.123");
    expect(((await echoed.json()) as Envelope).error.request_id).toBe(minted);
    const ok = await postJson(`/models/${name}/predict`, VALID_ROW, { "x-request-id": "client-abc.123" });
    const body = (await ok.json()) as { request_id: string };
    expect(body.request_id).toBe(ok.headers.get("x-request-id"));
    expect(body.request_id).not.toBe(minted);
    expect(ok.headers.get("x-client-request-id")).toBe("client-abc.123");
    const none = await get("/health");
    expect(none.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get("x-client-request-id")).toBeNull();
  });

  it("replaces an unsafe x-request-id instead of echoing it into responses and logs", async () => {
    const { SELF } = await import("cloudflare:test");
    for (const unsafe of ["abc def", "<script>alert(1)</script>", 'id";drop', "tab\there", "x".repeat(200)]) {
      const res = await SELF.fetch("https://edge.test/health", { headers: { "x-request-id": unsafe } });
      expect(res.status).toBe(200);
      const id = res.headers.get("x-request-id");
      expect(id, unsafe).not.toBe(unsafe);
      expect(id, unsafe).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get("x-client-request-id"), unsafe).toBeNull();
    }
    const error = await postJson(`/models/${name}/predict`, "{", { "x-request-id": "a b" });
    expect(((await error.json()) as Envelope).error.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
