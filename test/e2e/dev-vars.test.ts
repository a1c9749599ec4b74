/**
 * Every secret `.dev.vars.example` documents takes effect under a real `wrangler dev` when it is set
 * in `.dev.vars`, as `npm start` and `npm run dev` run it. wrangler reads `.dev.vars` from beside the
 * config, so the test writes a copy of the project's wrangler.toml (same settings, paths made
 * absolute) and its own `.dev.vars` into a temp directory: the developer's `.dev.vars` is never
 * touched. A `[secrets]` block in wrangler.toml makes wrangler 4.86 load only the keys it lists,
 * which left METRICS_TOKEN, FEEDBACK_TOKEN and PREDICTION_TOKEN_SECRET silently unset.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishVersion } from "../../worker/registry/publish-version";
import { PROJECT_ROOT } from "../../trainer/offline-env";
import { applyLocalMigrations, localPublishTarget, withLocalBindings } from "../../trainer/local-registry";
import { trainFixtureModel } from "../fixtures/trained-model";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler-dev-server";

const SECRETS = {
  ADMIN_TOKEN: "e2e-admin-token-0123456789abcdef",
  METRICS_TOKEN: "e2e-metrics-token-0123456789abcdef",
  FEEDBACK_TOKEN: "e2e-feedback-token-0123456789abcdef",
  PREDICTION_TOKEN_SECRET: "e2e-prediction-token-secret-0123456789abcdefghij",
};

const realDevVars = join(PROJECT_ROOT, ".dev.vars");
const realDevVarsBefore = existsSync(realDevVars) ? readFileSync(realDevVars, "utf8") : null;

let dir: string;
let server: WranglerDev | undefined;
let base: string;
let model: Awaited<ReturnType<typeof trainFixtureModel>>;

/** The project's wrangler.toml, unchanged but for its two relative paths. */
function configCopy(): string {
  const text = readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8");
  const main = /^main = "([^"]+)"$/m;
  const migrations = /^migrations_dir = "([^"]+)"$/m;
  if (!main.test(text) || !migrations.test(text)) throw new Error("wrangler.toml: expected main and migrations_dir lines to rewrite");
  return text
    .replace(main, (_, path: string) => `main = ${JSON.stringify(join(PROJECT_ROOT, path))}`)
    .replace(migrations, (_, path: string) => `migrations_dir = ${JSON.stringify(join(PROJECT_ROOT, path))}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-dev-vars-"));
  model = await trainFixtureModel();
  const state = join(dir, "state");
  applyLocalMigrations(state);
  await withLocalBindings(
    (env) => publishVersion(localPublishTarget(env), { manifest: model.manifest, onnx: model.onnx, explainer: model.explainer, createdBy: "e2e", aliases: ["production"] }),
    state,
  );
  const configPath = join(dir, "wrangler.toml");
  await writeFile(configPath, configCopy());
  await writeFile(join(dir, ".dev.vars"), Object.entries(SECRETS).map(([k, v]) => `${k}=${v}\n`).join(""));
  // Secrets only from .dev.vars: no --var for any of them.
  server = await startWranglerDev(state, { DEFAULT_MODEL: model.name, SAMPLE_RATE: "0" }, { configPath });
  base = server.base;
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe(".dev.vars secrets under wrangler dev", () => {
  it("METRICS_TOKEN guards /metrics: 401 without it, 403 with another, 200 with it", async () => {
    const open = await fetch(`${base}/metrics`, { headers: { "cf-connecting-ip": "198.51.100.1" } });
    expect(open.status, server!.log()).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { ...bearer(SECRETS.ADMIN_TOKEN), "cf-connecting-ip": "198.51.100.2" } })).status).toBe(403);
    const scraped = await fetch(`${base}/metrics`, { headers: bearer(SECRETS.METRICS_TOKEN) });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("# TYPE");
  });

  it("PREDICTION_TOKEN_SECRET signs predictions, and FEEDBACK_TOKEN (and ADMIN_TOKEN) send their labels", async () => {
    const rows = model.manifest.golden.slice(0, 2).map((g) => g.input);
    const res = await fetch(`${base}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ instances: rows }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: { prediction_token?: string }[] };
    const tokens = body.predictions.map((p) => p.prediction_token);
    expect(tokens.every((t) => typeof t === "string" && t.startsWith("pt1."))).toBe(true);

    const send = (token: string, predictionToken: string) =>
      fetch(`${base}/feedback`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(token) },
        body: JSON.stringify({ prediction_token: predictionToken, label: 1 }),
      });
    const byFeedbackToken = await send(SECRETS.FEEDBACK_TOKEN, tokens[0]!);
    expect(byFeedbackToken.status, await byFeedbackToken.clone().text()).toBe(200);
    expect(await byFeedbackToken.json()).toMatchObject({ received: 1, inserted: 1, joined_by: { token: 1 } });
    expect((await send(SECRETS.ADMIN_TOKEN, tokens[1]!)).status).toBe(200);
  });

  it("left the developer's own .dev.vars as it was", () => {
    expect(existsSync(realDevVars) ? readFileSync(realDevVars, "utf8") : null).toBe(realDevVarsBefore);
  });
});
