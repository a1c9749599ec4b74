/**
 * A probe worker for scripts/feedback-bench.ts: workerd freezes its clocks while JS runs without
 * I/O, so the benchmark times these routes from Node and subtracts `reps=0`.
 *
 *   GET /tokens?rows=N&reps=R   issues N prediction tokens R times (the key is imported on the first call)
 *   GET /verify?reps=R          verifies one token R times
 *   GET /seed?labels=L&unlabelled=U   writes L labels and U unlabelled samples for model "bench" v1
 *   GET /section?reps=R         computes the ground-truth section R times (D1 read + metrics)
 *   GET /metrics?n=N&reps=R     the section's metrics alone on N in-memory rows, R times
 *   GET /label-cost             D1 rows read/written by one label joined by sampled request id, and by token
 */
import { buildGroundTruthSection, groundTruthSection } from "../worker/feedback/realized";
import { issuePredictionTokens, verifyPredictionToken } from "../worker/feedback/prediction-token";
import { recordFeedback } from "../worker/feedback/record-feedback";
import type { Db } from "../worker/db/open-db";
import { parkMillerScores } from "./bench/park-miller-scores";

interface ProbeEnv {
  DB: D1Database;
  PREDICTION_TOKEN_SECRET: string;
}

const MANIFEST = { output: { label: "y", target_column: "y", classes: ["0", "1"] as [string, string], threshold: 0.5, risk_tiers: [{ name: "LOW", min: 0 }] } };
const WINDOW = { windowStart: "2026-11-30T00:00:00.000Z", windowEnd: "2026-11-30T01:00:00.000Z" };

export default {
  async fetch(request: Request, env: ProbeEnv): Promise<Response> {
    const url = new URL(request.url);
    const int = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
    const reps = int("reps", 1);
    if (url.pathname === "/tokens") {
      const p = parkMillerScores(int("rows", 1));
      const probabilities = new Float32Array(p.length * 2);
      p.forEach((v, i) => (probabilities[i * 2 + 1] = v));
      let length = 0;
      for (let r = 0; r < reps; r++) {
        const tokens = await issuePredictionTokens(env, { requestId: crypto.randomUUID(), result: { name: "churn-classifier", version: 1, probabilities }, issuedAt: Date.now() });
        length = tokens![0]!.length;
      }
      return Response.json({ token_length: length });
    }
    if (url.pathname === "/signonly") {
      const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.PREDICTION_TOKEN_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const data = new Uint8Array(110);
      const n = int("rows", 1);
      for (let r = 0; r < reps; r++) {
        const all = [];
        for (let i = 0; i < n; i++) all.push(crypto.subtle.sign("HMAC", key, data));
        await Promise.all(all);
      }
      return Response.json({});
    }
    if (url.pathname === "/verify") {
      const probabilities = new Float32Array([0.5, 0.5]);
      const [token] = (await issuePredictionTokens(env, { requestId: crypto.randomUUID(), result: { name: "churn-classifier", version: 1, probabilities }, issuedAt: Date.now() }))!;
      for (let r = 0; r < reps; r++) if (!(await verifyPredictionToken(env, token!)).ok) throw new Error("token did not verify");
      return Response.json({ ok: true });
    }
    if (url.pathname === "/seed") {
      await seed(env.DB, int("labels", 0), int("unlabelled", 0));
      return Response.json({ ok: true });
    }
    if (url.pathname === "/section") {
      let section: unknown = null;
      const db = { $client: env.DB } as unknown as Db;
      for (let r = 0; r < reps; r++) section = await groundTruthSection(db, { model: "bench", version: 1, ...WINDOW, manifest: MANIFEST, minLabels: 100 });
      return Response.json(section);
    }
    if (url.pathname === "/label-cost") {
      const requestId = crypto.randomUUID();
      await env.DB.prepare(
        `INSERT INTO request_samples (model_name, version, arm, request_id, row_index, features, probability, prediction, risk_tier, latency_ms, created_at, "window", sample_key)
         VALUES ('bench', 1, 'production', ?1, 0, '{}', 0.5, 1, 'LOW', 1, ?2, ?3, 0.5)`,
      )
        .bind(requestId, WINDOW.windowStart, WINDOW.windowStart)
        .run();
      const bySample = await recordFeedback(env.DB, env, [{ item: { request_id: requestId, label: 1 }, path: "" }], { maxAgeDays: 90 });
      const [token] = (await issuePredictionTokens(env, { requestId: crypto.randomUUID(), result: { name: "bench", version: 1, probabilities: new Float32Array([0.5, 0.5]) }, issuedAt: Date.now() }))!;
      const byToken = await recordFeedback(env.DB, env, [{ item: { prediction_token: token!, label: 1 }, path: "" }], { maxAgeDays: 90 });
      const samples = await env.DB.prepare("SELECT count(*) AS n FROM request_samples").first<{ n: number }>();
      return Response.json({ samples: samples!.n, by_sample: bySample.d1, by_token: byToken.d1 });
    }
    if (url.pathname === "/metrics") {
      const n = int("n", 100_000);
      const p = parkMillerScores(n);
      const labels = Uint8Array.from(parkMillerScores(n, 777), (u, i) => (u < p[i]! ? 1 : 0));
      const unlabelled = parkMillerScores(n, 4242);
      let section: unknown = null;
      for (let r = 0; r < reps; r++) section = buildGroundTruthSection({ model: "bench", version: 1, ...WINDOW, manifest: MANIFEST, scores: p, labels, unlabelled });
      return Response.json(section);
    }
    return new Response("not found", { status: 404 });
  },
};

/** Labels and samples in chunks of 5,000 rows per statement (json_each keeps it to one bound value). */
async function seed(db: D1Database, labels: number, unlabelled: number): Promise<void> {
  const p = parkMillerScores(labels + unlabelled);
  const truth = parkMillerScores(labels, 777);
  const at = (i: number) => new Date(Date.parse(WINDOW.windowStart) + (i % 3_600_000)).toISOString();
  const CHUNK = 5_000;
  for (let start = 0; start < labels; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(labels, start + CHUNK); i++) rows.push([`L${i}`, "bench", 1, truth[i]! < p[i]! ? 1 : 0, p[i], at(i)]);
    await db
      .prepare(
        `INSERT INTO prediction_labels (request_id, row_index, model_name, version, label, probability, predicted_at, joined_by)
         SELECT value ->> 0, 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, 'token' FROM json_each(?1)`,
      )
      .bind(JSON.stringify(rows))
      .run();
  }
  for (let start = 0; start < labels + unlabelled; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(labels + unlabelled, start + CHUNK); i++) rows.push([i < labels ? `L${i}` : `U${i}`, p[i], at(i)]);
    await db
      .prepare(
        `INSERT INTO request_samples (model_name, version, arm, request_id, row_index, features, probability, prediction, risk_tier, latency_ms, created_at, "window", sample_key)
         SELECT 'bench', 1, 'production', value ->> 0, 0, '{}', value ->> 1, 0, 'LOW', 1, value ->> 2, '${WINDOW.windowStart}', 0.5 FROM json_each(?1)`,
      )
      .bind(JSON.stringify(rows))
      .run();
  }
}
