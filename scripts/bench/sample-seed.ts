/**
 * Seeds request_samples with N rows for one model version, spread evenly over the hours of one
 * report window, as the Worker's sampling would have written them: the manifest's features of real
 * rows from the generated datasets (a share from the drifted file), each scored by the model itself
 * in the Node ORT, with the manifest's decision rule, uniform sample keys, and sample_window_counts
 * kept in step. Written straight into a persisted state's D1 (no server running on it), in
 * multi-row INSERTs.
 */
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { decisionRule } from "../../worker/contract/decision";
import type { FeatureRow } from "../../worker/contract/manifest";
import { createSession, runRows } from "../../trainer/onnx/node-runtime";
import { type BenchModel, type RegistryConfig, withStateBindings } from "./registry-state";

const HOUR_MS = 3_600_000;
// D1 refuses a statement over 100 KB (SQLITE_TOOBIG); a row is about 300 bytes of SQL.
const ROWS_PER_INSERT = 150;

export interface SeedOptions {
  model: BenchModel;
  version: number;
  count: number;
  /** Start of the report window (ms, aligned) and its length in hours: rows go round-robin over its hours. */
  windowStartMs: number;
  windowHours: number;
  normalCsv: string;
  driftedCsv: string;
  /** Share of rows taken from the drifted file. */
  driftedShare: number;
  seed: number;
}

/** mulberry32: a small seeded generator, so the seeded rows are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readRows(path: string, model: BenchModel): FeatureRow[] {
  const records = parse(readFileSync(path, "utf8"), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return records.map((r) =>
    Object.fromEntries(
      model.manifest.features.map((f) => {
        const raw = (r[f.name] ?? "").trim();
        if (raw === "") return [f.name, null];
        return [f.name, f.kind === "numeric" ? Number(raw) : raw];
      }),
    ),
  );
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function seedSamples(stateDir: string, config: RegistryConfig, o: SeedOptions): Promise<{ rows: number; featureBytes: number; ms: number }> {
  const started = performance.now();
  const normal = readRows(o.normalCsv, o.model);
  const drifted = readRows(o.driftedCsv, o.model);
  const session = await createSession(o.model.onnx);
  const [pNormal, pDrifted] = [await runRows(session, o.model.manifest.features, normal), await runRows(session, o.model.manifest.features, drifted)];
  const decide = decisionRule(o.model.manifest.output);
  const random = rng(o.seed);
  const name = o.model.manifest.name;
  const perHour = new Map<string, number>();
  const values: string[] = [];
  let featureBytes = 0;
  for (let i = 0; i < o.count; i++) {
    const fromDrifted = random() < o.driftedShare;
    const pool = fromDrifted ? drifted : normal;
    const j = Math.floor(random() * pool.length);
    const p = (fromDrifted ? pDrifted : pNormal)[j]!;
    const decision = decide(p);
    const hourMs = o.windowStartMs + (i % o.windowHours) * HOUR_MS;
    const window = new Date(hourMs).toISOString();
    const createdAt = new Date(hourMs + Math.floor(random() * HOUR_MS)).toISOString();
    const features = JSON.stringify(pool[j]);
    featureBytes += features.length;
    perHour.set(window, (perHour.get(window) ?? 0) + 1);
    values.push(
      `(${sqlString(name)}, ${o.version}, 'production', ${sqlString(`bench-cron-${i}`)}, 0, ${sqlString(features)}, ${p}, ` +
        `${decision.prediction ? 1 : 0}, ${sqlString(decision.risk_tier)}, 5, ${sqlString(createdAt)}, ${sqlString(window)}, ${random()})`,
    );
  }
  const statements: string[] = [];
  for (let i = 0; i < values.length; i += ROWS_PER_INSERT) {
    statements.push(
      `INSERT INTO request_samples (model_name, version, arm, request_id, row_index, features, probability, prediction, risk_tier, latency_ms, created_at, "window", sample_key) VALUES ${values.slice(i, i + ROWS_PER_INSERT).join(", ")}`,
    );
  }
  for (const [window, rows] of perHour) {
    statements.push(
      `INSERT INTO sample_window_counts ("window", model_name, version, rows) VALUES (${sqlString(window)}, ${sqlString(name)}, ${o.version}, ${rows}) ` +
        `ON CONFLICT ("window", model_name, version) DO UPDATE SET rows = rows + excluded.rows`,
    );
  }
  return withStateBindings(stateDir, config, async (DB) => {
    for (let i = 0; i < statements.length; i += 50) await DB.batch(statements.slice(i, i + 50).map((s) => DB.prepare(s)));
    const [row] = (await DB.prepare("SELECT COUNT(*) AS n FROM request_samples WHERE model_name = ?1 AND version = ?2").bind(name, o.version).all<{ n: number }>()).results;
    return { rows: row?.n ?? 0, featureBytes, ms: performance.now() - started };
  });
}
