/**
 * What anonymous (and admin) callers can make the Worker spend: the row cap is checked on the
 * body's own arrays before OIP and MLflow build a row object each (so a body whose rows are
 * malformed past the cap is refused for its size, not walked for validation); an uploaded
 * manifest.json nested deeper than MAX_JSON_DEPTH is refused before parsing (422, nothing written)
 * instead of overflowing the stack into a 500; and 200,000-deep prediction bodies are client
 * errors on every protocol.
 * The test bindings set MAX_BATCH_ROWS to 50.
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../worker/contract/json-depth";
import { type Envelope, fixture, freshName, registerFixture, registryState, requestApp, ROW_FEATURES, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

const CAP = 50;
const FEATURES = Object.keys(VALID_ROW) as (keyof typeof VALID_ROW)[];
let model: string;

beforeAll(async () => {
  model = (await registerFixture("logistic")).manifest.name;
});

function post(path: string, body: unknown, vars: Record<string, string> = {}) {
  return requestApp(path, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) }, vars);
}

const rows = (n: number) => Array.from({ length: n }, () => ({ ...VALID_ROW }));

async function expectCapEnvelope(res: Response, rowsSent: number) {
  expect(res.status).toBe(422);
  const body = (await res.json()) as Envelope;
  expect(body.error.code).toBe("VALIDATION_FAILED");
  expect(body.error.message).toBe(`batch of ${rowsSent} rows exceeds the maximum of ${CAP}`);
  expect(body.error.details).toMatchObject({ max_rows: CAP });
}


describe("the row cap comes before rows are built", () => {
  it("MLflow refuses an over-cap batch in each of its formats with the /predict envelope", async () => {
    const n = CAP + 1;
    const split = { columns: FEATURES, data: rows(n).map((r) => FEATURES.map((f) => r[f])) };
    const columns = Object.fromEntries(FEATURES.map((f) => [f, rows(n).map((r) => r[f])]));
    for (const body of [{ dataframe_split: split }, { dataframe_records: rows(n) }, { instances: rows(n) }, { inputs: rows(n) }, { inputs: columns }]) {
      await expectCapEnvelope(await post(`/models/${model}/invocations`, body), n);
    }
    // At the cap it serves.
    expect((await post(`/models/${model}/invocations`, { dataframe_records: rows(CAP) })).status).toBe(200);
  });

  it("MLflow refuses rows malformed past the cap for their number, not for their shape", async () => {
    const n = CAP + 1;
    const data = rows(n).map((r) => FEATURES.map((f) => r[f]));
    data[n - 1] = [1]; // would be "expected an array of 7 values" if rows were built first
    await expectCapEnvelope(await post(`/models/${model}/invocations`, { dataframe_split: { columns: FEATURES, data } }), n);
    // Column inputs of unequal lengths: the longest is what the body claims.
    const columns = Object.fromEntries(FEATURES.map((f, i) => [f, Array.from({ length: n + (i === 0 ? 1 : 0) }, () => VALID_ROW[f])]));
    await expectCapEnvelope(await post(`/models/${model}/invocations`, { inputs: columns }), n + 1);
  });

  it("OIP refuses an over-cap batch with its 400 naming the limit, also when the tensors disagree", async () => {
    const n = CAP + 1;
    for (const inputs of [oipInputs(ROW_FEATURES, rows(n)), oipInputs(ROW_FEATURES, rows(n)).map((t) => (t.name === "tenure" ? { ...t, shape: [n + 7] } : t))]) {
      const res = await post(`/v2/models/${model}/infer`, { inputs });
      expect(res.status).toBe(400);
      // OIP's message is the issue's, as for every OIP validation failure (app.ts oipMessage).
      expect(await res.json()).toEqual({ error: `inputs: at most ${CAP} rows per request` });
    }
    expect((await post(`/v2/models/${model}/infer`, { inputs: oipInputs(ROW_FEATURES, rows(CAP)) })).status).toBe(200);
  });
});

/** `depth` arrays inside one another, as text (JSON.stringify of such a value would itself overflow). */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const BIG_BODY = { MAX_BODY_BYTES: "1048576" };

describe("JSON nested too deeply", () => {
  it("a 200,000-deep prediction body is a client error on every protocol, not a stack overflow", async () => {
    const deep = nested(200_000);
    const cases: [string, string][] = [
      [`/models/${model}/predict`, `{"instances":${deep}}`],
      [`/models/${model}/predict`, deep],
      [`/models/${model}/invocations`, `{"dataframe_split":{"columns":["tenure"],"data":${deep}}}`],
      [`/models/${model}/invocations`, `{"dataframe_records":[{"tenure":${deep}}]}`],
    ];
    for (const [path, body] of cases) {
      const res = await post(path, body, BIG_BODY);
      expect(res.status, body.slice(0, 30)).toBe(422);
      expect(((await res.json()) as Envelope).error.code).toBe("VALIDATION_FAILED");
    }
    // OIP quoted a bad shape back in its message, and took Number() of it: both recurse.
    const oip = await post(`/v2/models/${model}/infer`, `{"inputs":[{"name":"tenure","datatype":"FP32","shape":${deep},"data":[1]}]}`, BIG_BODY);
    expect(oip.status).toBe(400);
    expect(await oip.json()).toEqual({ error: "inputs[tenure].shape: expected an array of integers, [N] or [N,1]" });
  });

  it("nestsDeeperThan is exact at the bound, and brackets inside strings do not count", () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestsDeeperThan(`{"a":[{"b":${nested(MAX_JSON_DEPTH - 3)}}]}`)).toBe(false);
    expect(nestsDeeperThan(`{"a":[{"b":${nested(MAX_JSON_DEPTH - 2)}}]}`)).toBe(true);
    // Escaped quotes and backslashes do not end a string early.
    const quoted = JSON.stringify({ s: "[".repeat(500) + '\\"{'.repeat(100), t: '\\' });
    expect(nestsDeeperThan(quoted, 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ s: '\\', a: [[1]] }), 2)).toBe(true);
  });

  it("a manifest.json nested 200,000 deep is a 422 naming it, and nothing is written", async () => {
    const name = freshName("deep");
    const { manifest, onnx } = fixture("logistic");
    manifest.name = name;
    (manifest.metrics as Record<string, unknown>).deep = "@DEEP@";
    const text = JSON.stringify(manifest).replace('"@DEEP@"', nested(200_000));
    const form = new FormData();
    form.append("model.onnx", new Blob([onnx], { type: "application/octet-stream" }), "model.onnx");
    form.append("manifest.json", new Blob([text], { type: "application/json" }), "manifest.json");
    form.append("aliases", "production");
    const serialised = new Response(form);
    const bytes = new Uint8Array(await serialised.arrayBuffer());
    const before = await registryState();

    const res = await SELF.fetch(`https://edge.test/admin/models/${name}/versions`, {
      method: "POST",
      headers: { "content-type": serialised.headers.get("content-type")!, authorization: `Bearer ${env.ADMIN_TOKEN}`, "cf-connecting-ip": "192.0.2.201" },
      body: bytes,
    });
    expect(res.status).toBe(422);
    const envelope = (await res.json()) as Envelope;
    expect(envelope.error.code).toBe("VALIDATION_FAILED");
    expect(envelope.error.message).toBe(`manifest.json: nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`);
    expect(await registryState()).toEqual(before);
  });
});
