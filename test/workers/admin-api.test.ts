/**
 * The admin API over HTTP (SELF.fetch) against real D1, R2, workerd's ORT and the rate-limiting
 * binding: each route's happy path, auth failures, refused uploads that leave the registry exactly
 * as it was, alias rules, privacy of raw training rows, and concurrent publishes.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import type { Manifest } from "../../worker/contract/manifest";
import * as views from "../../worker/registry/registry-views";
import { artifactKey } from "../../worker/registry/r2-keys";
import {
  type AdminCallOptions,
  adminHeaders,
  adminJson,
  CountingLimiter,
  type Envelope,
  failingFields,
  fixture,
  freshName,
  get,
  newClient,
  postJson,
  registerFixture,
  registryState,
  requestApp,
  twoVersions,
  VALID_ROW,
} from "./helpers";

const ORIGIN = "https://edge.test";

function adminGet(path: string, options: AdminCallOptions = {}) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers: adminHeaders(options) });
}

interface Parts {
  onnx?: Uint8Array;
  manifest?: unknown;
  modelCard?: string;
  reference?: string;
  aliases?: string;
  reason?: string;
}

/** The multipart body as bytes, serialised by Response, so the request carries its Content-Length. */
async function multipart(parts: Parts): Promise<{ bytes: Uint8Array; type: string }> {
  const form = new FormData();
  if (parts.onnx) form.append("model.onnx", new Blob([parts.onnx], { type: "application/octet-stream" }), "model.onnx");
  if (parts.manifest !== undefined) form.append("manifest.json", new Blob([JSON.stringify(parts.manifest)], { type: "application/json" }), "manifest.json");
  if (parts.modelCard !== undefined) form.append("model-card.md", new Blob([parts.modelCard], { type: "text/markdown" }), "model-card.md");
  if (parts.reference !== undefined) form.append("reference.json", new Blob([parts.reference], { type: "application/json" }), "reference.json");
  if (parts.aliases !== undefined) form.append("aliases", parts.aliases);
  if (parts.reason !== undefined) form.append("reason", parts.reason);
  const serialised = new Response(form);
  return { bytes: new Uint8Array(await serialised.arrayBuffer()), type: serialised.headers.get("content-type")! };
}

async function upload(name: string, parts: Parts, options: AdminCallOptions = {}) {
  const { bytes, type } = await multipart(parts);
  return SELF.fetch(`${ORIGIN}/admin/models/${name}/versions`, {
    method: "POST",
    headers: { "content-type": type, ...adminHeaders(options) },
    body: bytes,
  });
}

/** A fixture renamed, ready to upload; `patch` edits the manifest. */
function candidate(name: string, patch?: (m: Manifest) => void) {
  const { manifest, onnx } = fixture("forest");
  manifest.name = name;
  patch?.(manifest);
  return { manifest, onnx };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function envelope(res: Response): Promise<Envelope> {
  return (await res.json()) as Envelope;
}

describe("authentication", () => {
  it("answers 401 without a token and 403 with a wrong one, in the error envelope, before the handler runs", async () => {
    const { manifest } = await registerFixture("forest");
    const path = `/admin/models/${manifest.name}/versions/1/archive`;
    const missing = await adminJson("POST", path, { reason: "x" }, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="admin"');
    const body = await envelope(missing);
    expect(body.error.code).toBe("UNAUTHORIZED");
    expect(body.error.request_id).toBe(missing.headers.get("x-request-id"));
    const basic = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: { authorization: `Basic ${btoa("a:b")}`, "cf-connecting-ip": newClient() } });
    expect(basic.status).toBe(401);
    const sameLength = env.ADMIN_TOKEN!.slice(0, -1) + (env.ADMIN_TOKEN!.endsWith("x") ? "y" : "x");
    for (const token of ["nope", sameLength, `${env.ADMIN_TOKEN}x`]) {
      const wrong = await adminJson("POST", path, { reason: "x" }, { token });
      expect(wrong.status, token).toBe(403);
      expect((await envelope(wrong)).error.code).toBe("FORBIDDEN");
    }
    const version = (await (await get(`/models/${manifest.name}/versions/1`)).json()) as { status: string };
    expect(version.status).toBe("ready");
  });

  it("rate limits repeated failures from one client with 429 and retry-after; other clients and the right token still pass", async () => {
    const { manifest } = await registerFixture("forest", { aliases: [] });
    // An injected limiter (10 per client, as wrangler.toml's) that counts without a clock: the real
    // binding counts in fixed 60 s windows, so this test had to wait up to 10 s for a fresh one.
    const limiter = new CountingLimiter(10);
    const rollback = (options: AdminCallOptions) =>
      requestApp(
        `/admin/models/${manifest.name}/rollback`,
        { method: "POST", headers: { "content-type": "application/json", ...adminHeaders(options) }, body: JSON.stringify({ reason: "x" }) },
        { ADMIN_AUTH_FAILURES: limiter },
      );
    const client = newClient();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await rollback({ client, token: i % 2 ? null : "wrong-token" })).status);
    expect(statuses).toEqual([403, 401, 403, 401, 403, 401, 403, 401, 403, 401, 429, 429]);
    const limited = await rollback({ client, token: "wrong-token" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect((await envelope(limited)).error.code).toBe("RATE_LIMITED");
    expect(limiter.counts.get(client)).toBe(13);
    expect((await rollback({ token: "wrong-token" })).status).toBe(403);
    // The right token is never counted or refused: someone sharing CI's address cannot lock it out.
    const rightful = await rollback({ client });
    expect(rightful.status).toBe(409);
    expect((await envelope(rightful)).error.message).toMatch(/no previous version/);
    expect(limiter.counts.get(client)).toBe(13);
  });

  it("stays closed when ADMIN_TOKEN is unset or too short", async () => {
    const app = createApp();
    for (const ADMIN_TOKEN of [undefined, "", "short"]) {
      const res = await app.request(
        "/admin/models/m/rollback",
        { method: "POST", headers: { authorization: "Bearer short", "content-type": "application/json" }, body: JSON.stringify({ reason: "x" }) },
        { ...env, ADMIN_TOKEN },
      );
      expect(res.status, String(ADMIN_TOKEN)).toBe(500);
      const body = await envelope(res);
      expect(body.error.code).toBe("MISCONFIGURED");
      expect(body.error.message).toMatch(/admin API is closed: the ADMIN_TOKEN secret is/);
    }
  });
});

describe("POST /admin/models/:name/versions", () => {
  it("publishes a version checked in workerd's ORT, stores every part, moves the aliases, and serves it", async () => {
    const name = freshName("upload");
    const { manifest, onnx } = candidate(name);
    const reference = JSON.stringify({ rows: [VALID_ROW] });
    const res = await upload(name, { onnx, manifest, modelCard: "# card", reference, aliases: "production, staging", reason: "first release" }, { actor: "ci-bot" });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(views.publishedVersionSchema.parse(body)).toEqual(body);
    expect(body).toEqual({
      name,
      version: 1,
      sha256: manifest.onnx.sha256,
      aliases: [
        { alias: "production", from: null, to: 1 },
        { alias: "staging", from: null, to: 1 },
      ],
    });
    const version = (await (await get(`/models/${name}/versions/1`)).json()) as { status: string; created_by: string; aliases: string[] };
    expect(version).toMatchObject({ status: "ready", created_by: "ci-bot", aliases: ["production", "staging"] });
    expect(await (await env.MODELS.get(artifactKey(name, 1, "model-card.md")))!.text()).toBe("# card");
    expect(await (await env.MODELS.get(artifactKey(name, 1, "reference.json")))!.text()).toBe(reference);
    const stored = new Uint8Array(await (await env.MODELS.get(artifactKey(name, 1, "model.onnx")))!.arrayBuffer());
    expect(await sha256Hex(stored)).toBe(manifest.onnx.sha256);
    const history = (await (await get(`/models/${name}/aliases/production/history`)).json()) as { history: { by: string; reason: string }[] };
    expect(history.history).toMatchObject([{ by: "ci-bot", reason: "first release" }]);
    const predicted = await postJson(`/models/${name}/predict`, VALID_ROW);
    expect(predicted.status).toBe(200);
    expect(predicted.headers.get("x-model-version")).toBe("1");
  });

  describe("refusals leave the registry as it was", () => {
    const refusals: [string, (name: string) => Promise<Response>, number, RegExp][] = [
      [
        "no Content-Length",
        async (name) => {
          const { bytes, type } = await multipart(candidate(name));
          const stream = new ReadableStream({
            start(controller) {
              controller.enqueue(bytes);
              controller.close();
            },
          });
          return SELF.fetch(`${ORIGIN}/admin/models/${name}/versions`, { method: "POST", headers: { "content-type": type, ...adminHeaders({}) }, body: stream });
        },
        411,
        /Content-Length/,
      ],
      [
        "over MAX_UPLOAD_BYTES",
        (name) => {
          const { manifest, onnx } = candidate(name);
          return upload(name, { manifest, onnx, modelCard: "x".repeat(Number(env.MAX_UPLOAD_BYTES)) });
        },
        413,
        /exceeds the limit of 2097152 bytes/,
      ],
      [
        "ONNX bytes that do not match the manifest's sha256",
        (name) => {
          const { manifest, onnx } = candidate(name);
          onnx[onnx.length - 1] = onnx[onnx.length - 1]! ^ 0xff;
          return upload(name, { manifest, onnx });
        },
        422,
        /publish failed at checksum/,
      ],
      [
        "a corrupted ONNX file whose manifest carries its checksum",
        async (name) => {
          const onnx = new TextEncoder().encode("this is not an ONNX graph");
          const sha256 = await sha256Hex(onnx);
          const { manifest } = candidate(name, (m) => Object.assign(m.onnx, { sha256, size: onnx.byteLength }));
          return upload(name, { manifest, onnx });
        },
        422,
        /publish failed at opening the ONNX session/,
      ],
      [
        "a manifest whose features do not match the graph",
        (name) => {
          const { manifest, onnx } = candidate(name, (m) => (m.features[0]!.name = "renamed_feature"));
          return upload(name, { manifest, onnx });
        },
        422,
        /publish failed at graph signature: feature renamed_feature has no graph input/,
      ],
      [
        "a golden row the graph does not reproduce",
        (name) => {
          const { manifest, onnx } = candidate(name, (m) => (m.golden[0]!.probability = Math.min(1, m.golden[0]!.probability + 0.1)));
          return upload(name, { manifest, onnx });
        },
        422,
        /publish failed at golden rows: row 0 gives/,
      ],
      [
        "a manifest for another model",
        (name) => {
          const { manifest, onnx } = candidate(`${name}-other`);
          return upload(name, { manifest, onnx });
        },
        422,
        /manifest\.json\.name: is ".*-other", but the upload is for model/,
      ],
      [
        "no model.onnx part",
        (name) => upload(name, { manifest: candidate(name).manifest }),
        422,
        /model\.onnx: required/,
      ],
    ];

    for (const [what, send, status, message] of refusals) {
      it(`${what}: ${status}`, async () => {
        // An existing version, so "unchanged" covers rows of this very model too.
        const { manifest } = await registerFixture("forest");
        const before = await registryState();
        const res = await send(manifest.name);
        const body = await envelope(res);
        expect(res.status, JSON.stringify(body)).toBe(status);
        expect(body.error.message).toMatch(message);
        expect(await registryState()).toEqual(before);
      });
    }

    it("names the failing step in details", async () => {
      const name = freshName("golden");
      const { manifest, onnx } = candidate(name, (m) => (m.golden[1]!.probability = 2));
      const body = await envelope(await upload(name, { manifest, onnx }));
      expect(body.error).toMatchObject({ code: "VALIDATION_FAILED", details: { step: "golden" } });
      expect((await get(`/models/${name}`)).status).toBe(404);
    });
  });

  it("gives 10 concurrent publishes 10 complete versions", async () => {
    const name = freshName("concurrent");
    const { manifest, onnx } = candidate(name);
    const responses = await Promise.all(Array.from({ length: 10 }, () => upload(name, { manifest, onnx })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { version: number }[];
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(bodies.map((b) => b.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const detail = (await (await get(`/models/${name}`)).json()) as { versions: { version: number; status: string; sha256: string }[] };
    expect(detail.versions.map((v) => v.status)).toEqual(Array(10).fill("ready"));
    for (const v of detail.versions) {
      const object = await env.MODELS.head(artifactKey(name, v.version, "model.onnx"));
      expect(object?.customMetadata?.sha256, `version ${v.version}`).toBe(manifest.onnx.sha256);
      expect(await env.MODELS.head(artifactKey(name, v.version, "manifest.json")), `version ${v.version}`).not.toBeNull();
    }
  });
});


async function historyOf(name: string, alias: string) {
  const res = await get(`/models/${name}/aliases/${alias}/history`);
  expect(res.status).toBe(200);
  const body = await res.json();
  expect(views.aliasMovesSchema.parse(body)).toEqual(body);
  return (body as { history: { from: number | null; to: number | null; by: string; reason: string; evidence: unknown }[] }).history;
}

describe("aliases", () => {
  it("PUT moves or creates an alias and records who, why and the evidence", async () => {
    const name = await twoVersions("forest");
    const evidence = { candidate_auc: 0.91, production_auc: 0.9, rows: 2000, commit: "abc123" };
    const moved = await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: 2, reason: "gate passed", evidence }, { actor: "release-bot" });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toEqual({ name, alias: "production", from: 1, to: 2 });
    const created = await adminJson("PUT", `/admin/models/${name}/aliases/staging`, { version: 1, reason: "keep the old one reachable" });
    expect(await created.json()).toEqual({ name, alias: "staging", from: null, to: 1 });
    const history = await historyOf(name, "production");
    expect(history.map(({ from, to, by, reason, evidence: e }) => ({ from, to, by, reason, evidence: e }))).toEqual([
      { from: null, to: 1, by: "test", reason: "test fixture", evidence: null },
      { from: 1, to: 2, by: "release-bot", reason: "gate passed", evidence },
    ]);
    expect((await postJson(`/models/${name}/predict`, VALID_ROW)).headers.get("x-model-version")).toBe("2");
  });

  it("refuses a missing version (404), an archived one (409), bad bodies (422 naming fields) and a bad x-actor", async () => {
    const name = await twoVersions("forest");
    const before = await registryState();
    const missing = await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: 9, reason: "x" });
    expect(missing.status).toBe(404);
    expect((await envelope(missing)).error.message).toMatch(/no version 9/);
    expect((await adminJson("PUT", `/admin/models/no-such-model/aliases/production`, { version: 1, reason: "x" })).status).toBe(404);
    const invalid = await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: "two", reason: "", evidence: [1] });
    expect(invalid.status).toBe(422);
    expect(failingFields(await envelope(invalid))).toEqual(["evidence", "reason", "version"]);
    const badActor = await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: 2, reason: "x" }, { actor: "no spaces allowed" });
    expect(badActor.status).toBe(422);
    expect(failingFields(await envelope(badActor))).toEqual(["x-actor"]);
    expect((await adminJson("PUT", `/admin/models/${name}/aliases/9bad`, { version: 2, reason: "x" })).status).toBe(422);
    expect(await registryState()).toEqual(before);

    expect((await adminJson("POST", `/admin/models/${name}/versions/2/archive`, { reason: "retired" })).status).toBe(200);
    const archived = await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: 2, reason: "x" });
    expect(archived.status).toBe(409);
    expect((await envelope(archived)).error.message).toMatch(/it is archived/);
    expect((await historyOf(name, "production")).map((h) => h.to)).toEqual([1]);
  });

  it("DELETE removes an alias, recorded with to null; a missing alias is 404", async () => {
    const name = await twoVersions("forest");
    const removed = await adminJson("DELETE", `/admin/models/${name}/aliases/production`, { reason: "stop serving" }, { actor: "oncall" });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ name, alias: "production", from: 1, to: null });
    expect((await postJson(`/models/${name}/predict`, VALID_ROW)).status).toBe(404);
    expect((await historyOf(name, "production")).at(-1)).toMatchObject({ from: 1, to: null, by: "oncall", reason: "stop serving" });
    expect((await adminJson("DELETE", `/admin/models/${name}/aliases/production`, { reason: "again" })).status).toBe(404);
    expect(failingFields(await envelope(await adminJson("DELETE", `/admin/models/${name}/aliases/production`, {})))).toEqual(["reason"]);
  });

  it("GET history is public, and 404 for an alias never set", async () => {
    const name = await twoVersions("forest");
    expect((await historyOf(name, "production")).length).toBe(1);
    expect((await get(`/models/${name}/aliases/canary/history`)).status).toBe(404);
    expect((await get(`/models/${name}/aliases/not%20an%20alias/history`)).status).toBe(404);
    expect((await get(`/models/no-such-model/aliases/production/history`)).status).toBe(404);
  });
});

describe("POST /admin/models/:name/rollback", () => {
  it("moves production back to the version it came from, and can undo that", async () => {
    const name = await twoVersions("forest");
    await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: 2, reason: "promote" });
    const back = await adminJson("POST", `/admin/models/${name}/rollback`, { reason: "error rate up" }, { actor: "oncall" });
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual({ name, alias: "production", from: 2, to: 1 });
    expect((await postJson(`/models/${name}/predict`, VALID_ROW)).headers.get("x-model-version")).toBe("1");
    expect((await historyOf(name, "production")).at(-1)).toMatchObject({ from: 2, to: 1, by: "oncall", reason: "error rate up" });
    const again = await adminJson("POST", `/admin/models/${name}/rollback`, { alias: "production", reason: "false alarm" });
    expect(await again.json()).toEqual({ name, alias: "production", from: 1, to: 2 });
  });

  it("answers 409 when the history has no previous version, 404 for an unknown model", async () => {
    const name = await twoVersions("forest");
    const before = await registryState();
    const none = await adminJson("POST", `/admin/models/${name}/rollback`, { reason: "x" });
    expect(none.status).toBe(409);
    expect((await envelope(none)).error.message).toMatch(/alias 'production' of .* has never moved from one version to another/);
    expect((await adminJson("POST", `/admin/models/${name}/rollback`, { alias: "canary", reason: "x" })).status).toBe(409);
    expect((await adminJson("POST", `/admin/models/no-such-model/rollback`, { reason: "x" })).status).toBe(404);
    expect(await registryState()).toEqual(before);
  });

  it("refuses to roll back onto an archived version", async () => {
    const name = await twoVersions("forest");
    await adminJson("PUT", `/admin/models/${name}/aliases/production`, { version: 2, reason: "promote" });
    expect((await adminJson("POST", `/admin/models/${name}/versions/1/archive`, { reason: "old" })).status).toBe(200);
    const refused = await adminJson("POST", `/admin/models/${name}/rollback`, { reason: "x" });
    expect(refused.status).toBe(409);
    expect((await envelope(refused)).error.message).toMatch(/cannot point production at version 1 of .*: it is archived/);
    expect((await historyOf(name, "production")).map((h) => h.to)).toEqual([1, 2]);
  });
});

describe("POST /admin/models/:name/versions/:version/archive", () => {
  it("archives an unaliased version and refuses one an alias points at", async () => {
    const name = await twoVersions("forest");
    const refused = await adminJson("POST", `/admin/models/${name}/versions/1/archive`, { reason: "old" });
    expect(refused.status).toBe(409);
    expect((await envelope(refused)).error.message).toMatch(/is what production points at: move it first/);
    const archived = await adminJson("POST", `/admin/models/${name}/versions/2/archive`, { reason: "lost the gate" }, { actor: "ml-lead" });
    expect(archived.status).toBe(200);
    expect(await archived.json()).toMatchObject({ name, version: 2, status: "archived", status_changed_by: "ml-lead", status_reason: "lost the gate" });
    expect((await postJson(`/models/${name}/versions/2/predict`, VALID_ROW)).status).toBe(404);
    expect((await adminJson("POST", `/admin/models/${name}/versions/9/archive`, { reason: "x" })).status).toBe(404);
    expect(failingFields(await envelope(await adminJson("POST", `/admin/models/${name}/versions/1/archive`, { reason: " " })))).toEqual(["reason"]);
  });
});

describe("privacy of training rows", () => {
  it("serves golden inputs and reference.json to the admin token only", async () => {
    const name = freshName("private");
    const { manifest, onnx } = candidate(name);
    const reference = JSON.stringify({ rows: [VALID_ROW, VALID_ROW] });
    expect((await upload(name, { manifest, onnx, reference, aliases: "production" })).status).toBe(201);
    const probabilities = manifest.golden.map((g) => ({ probability: g.probability }));

    const open = (await (await get(`/models/${name}/versions/1`)).json()) as { manifest: Manifest };
    expect(open.manifest.golden).toEqual(probabilities);
    expect(JSON.stringify(open)).not.toContain('"input"');
    const full = (await (await adminGet(`/models/${name}/versions/1`)).json()) as { manifest: Manifest };
    expect(full.manifest.golden).toEqual(manifest.golden);
    expect((await adminGet(`/models/${name}/versions/1`, { token: "wrong-token" })).status).toBe(403);

    const publicFile = await get(`/models/${name}/versions/1/artifacts/manifest.json`);
    expect(publicFile.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await publicFile.json()) as Manifest).golden).toEqual(probabilities);
    const adminFile = await adminGet(`/models/${name}/versions/1/artifacts/manifest.json`);
    expect(((await adminFile.json()) as Manifest).golden).toEqual(manifest.golden);
    expect(publicFile.headers.get("etag")).not.toBe(adminFile.headers.get("etag"));
    for (const res of [publicFile, adminFile]) expect(res.headers.get("vary")).toMatch(/authorization/i);

    const hidden = await get(`/models/${name}/versions/1/artifacts/reference.json`);
    expect(hidden.status).toBe(401);
    expect((await envelope(hidden)).error.code).toBe("UNAUTHORIZED");
    const shown = await adminGet(`/models/${name}/versions/1/artifacts/reference.json`);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toBe(reference);
  });
});
