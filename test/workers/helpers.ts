/** Test helpers: publish the real fixture models (built by the trainer's exporter) into real D1 + R2. */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import { createApp } from "../../worker/app";
import type { Manifest } from "../../worker/contract/manifest";
import { createOnnxSession } from "../../worker/inference/onnx-runtime";
import { PublishError, type PublishInput, publishVersion, type PublishTarget } from "../../worker/registry/publish-version";
import { artifactKey } from "../../worker/registry/r2-keys";
import { openDb } from "../../worker/db/open-db";

export const VALID_ROW = {
  tenure: 24,
  monthly_charges: 70.0,
  total_charges: 1680.0,
  num_products: 2,
  contract_type: "Month-to-month",
  payment_method: "Electronic check",
  internet_service: "Fiber optic",
};

/** VALID_ROW's features, as oipInputs takes them: numbers numeric, strings categorical. */
export const ROW_FEATURES = Object.entries(VALID_ROW).map(([name, value]) => ({ name, kind: typeof value === "number" ? ("numeric" as const) : ("categorical" as const) }));

export type FixtureKind = "forest" | "logistic" | "boosting" | "trained" | "trained-boosting" | "trained-logistic" | "imported";

export function fixture(kind: FixtureKind) {
  const found = env.TEST_FIXTURES.find((f) => f.name === `churn-${kind}`);
  if (!found) throw new Error(`no ${kind} fixture among ${env.TEST_FIXTURES.map((f) => f.name).join(", ")}`);
  const onnx = Uint8Array.from(atob(found.onnx_base64), (ch) => ch.charCodeAt(0));
  return { manifest: structuredClone(found.manifest), onnx, explainer: found.explainer };
}

let counter = 0;

/** The registry as the Worker publishes into it: real D1, real R2, workerd's ORT. */
export function publishTarget(): PublishTarget {
  return { db: openDb(env.DB), models: env.MODELS, openSession: createOnnxSession };
}

export function publish(input: PublishInput) {
  return publishVersion(publishTarget(), input);
}

/** A publish that must be refused: the PublishError, after checking D1 and R2 are exactly as before. */
export async function refusedPublish(input: PublishInput): Promise<PublishError> {
  const before = await registryState();
  const error = await publish(input).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PublishError);
  expect(await registryState()).toEqual(before);
  return error as PublishError;
}

/** A model name no other test uses (caches are per isolate; names keep tests apart). */
export function freshName(kind: string): string {
  return `${kind}-${Date.now().toString(36)}-${counter++}`;
}

/** Publishes a fixture under a fresh model name, through the one publish path. */
export async function registerFixture(
  kind: FixtureKind,
  options: { name?: string; aliases?: string[]; patch?: (m: Manifest) => void } = {},
) {
  const { manifest, onnx, explainer } = fixture(kind);
  manifest.name = options.name ?? freshName(kind);
  options.patch?.(manifest);
  const result = await publish({
    manifest,
    onnx,
    ...(explainer === undefined ? {} : { explainer }),
    createdBy: "test",
    aliases: options.aliases ?? ["production"],
    reason: "test fixture",
  });
  return { ...result, manifest, onnx, explainer };
}

/** Flips the last byte of a version's model.onnx in R2; `restore()` puts the original back. */
export async function corruptArtifact(name: string, version: number) {
  const key = artifactKey(name, version, "model.onnx");
  const object = await env.MODELS.get(key);
  if (!object) throw new Error(`no artifact at ${key}`);
  const original = new Uint8Array(await object.arrayBuffer());
  const broken = original.slice();
  broken[broken.length - 1] = broken[broken.length - 1]! ^ 0xff;
  await env.MODELS.put(key, broken);
  return { key, restore: () => env.MODELS.put(key, original) };
}

const TABLES = ["models", "model_versions", "aliases", "alias_history"] as const;

/** Every row of the registry's tables and every R2 key: what "left as it was" is checked against. */
export async function registryState() {
  const rows: Record<string, unknown[]> = {};
  for (const table of TABLES) rows[table] = (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()).results;
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.MODELS.list({ cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { counts: Object.fromEntries(TABLES.map((t) => [t, rows[t]!.length])), rows, keys: keys.sort() };
}

const app = createApp();

/**
 * One request through the whole app with its own execution context, waiting for the work it left
 * in waitUntil (samples, shadow, metrics flushes); `vars` override the test bindings for this
 * request only (settings are parsed per env object), bindings too, e.g. a CountingLimiter as
 * ADMIN_AUTH_FAILURES.
 */
export async function requestApp(path: string, init: RequestInit = {}, vars: Record<string, unknown> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.request(`https://edge.test${path}`, init, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * A stand-in for the ADMIN_AUTH_FAILURES rate-limit binding, passed to requestApp in `vars`: lets
 * `allowed` calls per key through and refuses that key's later ones, counting every call per key.
 * The real binding counts in fixed 60 s windows of the wall clock, so a test of the limit through
 * it fails whenever its requests straddle a window's end; this one has no clock.
 */
export class CountingLimiter implements RateLimit {
  readonly counts = new Map<string, number>();
  constructor(private readonly allowed: number) {}
  async limit({ key }: RateLimitOptions): Promise<RateLimitOutcome> {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return { success: n <= this.allowed };
  }
}

let clients = 0;

/** A client address (cf-connecting-ip) no other call uses, so the auth-failure limiter only counts what a test means it to. */
export function newClient(): string {
  clients += 1;
  return `198.51.100.${clients}`;
}

export interface AdminCallOptions {
  /** The bearer token: the test ADMIN_TOKEN by default, null for no Authorization header. */
  token?: string | null;
  /** cf-connecting-ip: a fresh address per call by default. */
  client?: string;
  /** x-actor. */
  actor?: string;
}

/** An admin call's headers: bearer token, client address, actor. */
export function adminHeaders(options: AdminCallOptions = {}): Record<string, string> {
  const token = options.token === undefined ? env.ADMIN_TOKEN : options.token;
  return {
    "cf-connecting-ip": options.client ?? newClient(),
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    ...(options.actor ? { "x-actor": options.actor } : {}),
  };
}

/** An admin call with a JSON body (none when `body` is undefined) over SELF.fetch. */
export function adminJson(method: string, path: string, body?: unknown, options: AdminCallOptions = {}) {
  return SELF.fetch(`https://edge.test${path}`, {
    method,
    headers: { "content-type": "application/json", ...adminHeaders(options) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * A fresh model with two versions: 1 the forest fixture, serving production; 2 `second` (by default
 * the logistic one, whose probabilities differ from the forest's), ready and unaliased. Its name.
 */
export async function twoVersions(second: FixtureKind = "logistic"): Promise<string> {
  const first = await registerFixture("forest");
  const name = first.manifest.name;
  await registerFixture(second, { name, aliases: [] });
  return name;
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return SELF.fetch(`https://edge.test${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function get(path: string) {
  return SELF.fetch(`https://edge.test${path}`);
}

export interface Envelope {
  error: { code: string; message: string; request_id: string; details?: { issues?: { field: string; message: string }[] } & Record<string, unknown> };
}

export function failingFields(body: Envelope): string[] {
  return (body.error.details?.issues ?? []).map((i) => i.field).sort();
}

let barrierCount = 0;

/**
 * Waits until the observation queue has delivered everything sent before this call: a marker sample
 * sent now is consumed after them (the local queue delivers in order), so once it is in D1 so is
 * everything before it. The marker row and its window count are then deleted.
 */
export async function observationsSettled(timeoutMs = 10_000): Promise<void> {
  const requestId = `barrier-${Date.now().toString(36)}-${barrierCount++}`;
  const at = new Date();
  const window = new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000).toISOString();
  const record = {
    modelName: "__barrier__",
    version: 1,
    arm: "barrier",
    requestId,
    clientRequestId: null,
    rowIndex: 0,
    features: "{}",
    probability: 0,
    prediction: false,
    riskTier: "none",
    latencyMs: 0,
    createdAt: at.toISOString(),
    window,
    sampleKey: 0,
  };
  await env.OBSERVATIONS.send({ kind: "samples", records: [record] }, { contentType: "json" });
  const started = Date.now();
  for (;;) {
    const hit = await env.DB.prepare("SELECT 1 FROM request_samples WHERE request_id = ?").bind(requestId).first();
    if (hit) break;
    if (Date.now() - started > timeoutMs) throw new Error(`the observation queue did not deliver within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await env.DB.batch([
    env.DB.prepare("DELETE FROM request_samples WHERE model_name = '__barrier__'"),
    env.DB.prepare("DELETE FROM sample_window_counts WHERE model_name = '__barrier__'"),
  ]);
}
