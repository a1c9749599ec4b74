/// <reference path="../../worker/wasm-modules.d.ts" />
/**
 * A probe worker for timing inference inside workerd from the outside. workerd freezes Date.now()
 * and performance.now() while JS runs without I/O, so an in-isolate timer reads 0 for pure CPU
 * work; instead the benchmark times `GET /run?rows=N&reps=R` against `reps=0` from Node, and the
 * difference over R runs is the cost of one session.run on N rows.
 *
 *   POST /load   {"manifest": {...}, "onnx_base64": "..."}  -> creates the session through the
 *                worker's own createOnnxSession, replays the manifest's goldens, reports the max error
 *   GET  /run?rows=N&reps=R  -> runs the session R times on N golden rows (cycled); feeds are built
 *                once per N and cached, so reps=0 costs the same request handling minus inference
 *   GET  /explain?rows=N&reps=R -> explains N golden rows R times with the worker's own explainRows
 *                (worker/explain/), on design rows the session's `design` output gave once per N; /load
 *                then takes {"explainer": "<explainer.json text>"} too, and checks the goldens' explanations
 *
 * Bundled with `wrangler deploy --dry-run scripts/bench/inference-probe.ts --outdir <dir>` so the
 * ORT wasm import becomes a precompiled module, exactly as in the worker bundle. It only uses types
 * that also exist under tsconfig.node.json (DOM Request/Response), so it typechecks there.
 */
import { type Manifest, parseManifest, type FeatureRow } from "../../worker/contract/manifest";
import { createOnnxSession } from "../../worker/inference/onnx-runtime";
import type { OnnxSession } from "../../worker/contract/onnx-session";
import { buildFeeds, type Feeds } from "../../worker/contract/feature-feeds";
import { type Explainer, parseExplainer } from "../../worker/contract/explainer";
import { explainRows } from "../../worker/explain/explain-rows";

interface Loaded {
  manifest: Manifest;
  session: OnnxSession;
  feeds: Map<number, Feeds["feeds"]>;
  explainer: Explainer | null;
  design: Map<number, Float32Array>;
}

let loaded: Loaded | null = null;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function feedsFor(state: Loaded, rows: number): Feeds["feeds"] {
  let feeds = state.feeds.get(rows);
  if (!feeds) {
    const goldens: FeatureRow[] = state.manifest.golden.map((g) => g.input as FeatureRow);
    feeds = buildFeeds(state.manifest.features, Array.from({ length: rows }, (_, i) => goldens[i % goldens.length]!)).feeds;
    state.feeds.set(rows, feeds);
  }
  return feeds;
}

async function load(request: Request): Promise<Response> {
  const body = (await request.json()) as { manifest: unknown; onnx_base64: string; explainer?: string };
  const manifest = parseManifest(body.manifest);
  const binary = atob(body.onnx_base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const session = await createOnnxSession(bytes);
  const state: Loaded = { manifest, session, feeds: new Map(), explainer: body.explainer === undefined ? null : parseExplainer(JSON.parse(body.explainer)), design: new Map() };
  const n = manifest.golden.length;
  const probabilities = await session.run(feedsFor(state, n), n, manifest.onnx.output);
  let maxAbsError = 0;
  manifest.golden.forEach((g, i) => {
    maxAbsError = Math.max(maxAbsError, Math.abs(probabilities[i * 2 + 1]! - g.probability));
  });
  let explanationMaxAbsError: number | null = null;
  if (state.explainer) {
    const explained = explainRows(state.explainer, await designFor(state, n));
    explanationMaxAbsError = 0;
    manifest.golden.forEach((g, i) => {
      const want = g.explanation;
      if (!want) throw new Error(`golden row ${i} has no explanation to check`);
      const got = explained[i]!;
      for (const [f, c] of got.contributions.entries()) explanationMaxAbsError = Math.max(explanationMaxAbsError!, Math.abs(c - want.contributions[f]!));
    });
  }
  loaded = state;
  return json({ inputs: session.inputNames, outputs: session.outputNames, goldens: n, max_abs_error: maxAbsError, explanation_max_abs_error: explanationMaxAbsError });
}

async function designFor(state: Loaded, rows: number): Promise<Float32Array> {
  let design = state.design.get(rows);
  if (!design) {
    const block = state.manifest.explainer;
    if (!block) throw new Error("the manifest has no explainer block");
    [, design] = (await state.session.runOutputs(feedsFor(state, rows), rows, [state.manifest.onnx.output, block.design_output])) as [Float32Array, Float32Array];
    state.design.set(rows, design);
  }
  return design;
}

async function runReps(url: URL): Promise<Response> {
  if (!loaded) return json({ error: "POST /load first" }, 409);
  const rows = Number(url.searchParams.get("rows") ?? "1");
  const reps = Number(url.searchParams.get("reps") ?? "0");
  if (!Number.isInteger(rows) || rows < 1 || rows > 100_000 || !Number.isInteger(reps) || reps < 0) {
    return json({ error: "rows must be 1..100000 and reps >= 0" }, 400);
  }
  const feeds = feedsFor(loaded, rows);
  let checksum = 0;
  for (let r = 0; r < reps; r++) {
    const out = await loaded.session.run(feeds, rows, loaded.manifest.onnx.output);
    checksum += out[1]!;
  }
  return json({ rows, reps, checksum });
}

async function explainReps(url: URL): Promise<Response> {
  if (!loaded?.explainer) return json({ error: "POST /load with an explainer first" }, 409);
  const rows = Number(url.searchParams.get("rows") ?? "1");
  const reps = Number(url.searchParams.get("reps") ?? "0");
  if (!Number.isInteger(rows) || rows < 1 || rows > 10_000 || !Number.isInteger(reps) || reps < 0) {
    return json({ error: "rows must be 1..10000 and reps >= 0" }, 400);
  }
  const design = await designFor(loaded, rows);
  let checksum = 0;
  for (let r = 0; r < reps; r++) checksum += explainRows(loaded.explainer, design)[0]!.base_value;
  return json({ rows, reps, checksum });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method === "POST" && url.pathname === "/load") return await load(request);
      if (request.method === "GET" && url.pathname === "/run") return await runReps(url);
      if (request.method === "GET" && url.pathname === "/explain") return await explainReps(url);
      return json({ error: "not found" }, 404);
    } catch (error) {
      return json({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) }, 500);
    }
  },
};
