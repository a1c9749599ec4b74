/**
 * Times inference inside workerd from Node (see inference-probe.ts for why not from inside):
 * for each batch size N, alternate `reps=0` and `reps=R` requests and take the median of the paired
 * differences; per call = median / R, per row = per call / N. R is calibrated so one timed request
 * carries ~targetMs of inference, which keeps the loopback noise (~0.1-1 ms) small beside it.
 *
 * Two phases: "cold" right after the session is created, and "warm" after `warmupS` seconds of
 * back-to-back inference on the largest batch. V8 first runs wasm code from its baseline compiler
 * (Liftoff) and tiers hot functions up to TurboFan later; in Node the same 1,000-row call costs
 * ~12-14 ms with `--liftoff-only` and ~6.3 ms with `--no-liftoff`. When the tier-up happens is up to
 * V8 (and a busy shared machine moves these figures as much), so "warm" means "after the warm-up",
 * not "guaranteed tiered up".
 */
import type { NodeFigure, PerCallFigure } from "./node-reference";
import { median, percentile } from "./order-statistics";
import { cpuMs } from "./proc-cpu";
import { bundleModules } from "./process";
import type { BenchModel } from "./registry-state";
import { startMiniflare } from "./servers";

export interface InferenceFigure extends PerCallFigure {
  per1000RowsMs: number;
  /** Spread of the per-row estimate across samples (25th and 75th percentile). */
  perRowIqrMs: [number, number];
  /** Median round trip of a reps=0 request: the request overhead the difference removes. */
  emptyRequestMs: number;
  /**
   * workerd CPU time per call from /proc: a block of `samples` reps=R requests minus a block of
   * `samples` reps=0 requests, over samples x R calls. Hardly moved by other load on the machine.
   */
  cpuPerCallMs: number;
  cpuPerRowMs: number;
}

export interface ProbeResult {
  goldenMaxAbsError: number;
  warmupS: number;
  /** Steady state (after the warm-up), or the cold figures when the warm-up is 0. */
  figures: InferenceFigure[];
  cold: InferenceFigure[];
  /** The same runs in Node (ORT wasm, 1 thread), for reference. */
  node?: NodeFigure[];
}

export interface ProbeOptions {
  /** "run" (default): session.run. "explain": explainRows on the rows' design output (the model needs an explainer). */
  path?: "run" | "explain";
  rowCounts: number[];
  samples: number;
  targetMs: number;
  warmupS: number;
  log: (line: string) => void;
}

export async function measureInference(bundleDir: string, model: BenchModel, options: ProbeOptions): Promise<ProbeResult> {
  const path = options.path ?? "run";
  if (path === "explain" && model.explainer === undefined) throw new Error("the bench model has no explainer.json to explain with");
  const server = await startMiniflare("dispose inference probe", { modules: bundleModules(bundleDir), modulesRoot: bundleDir });
  const { mf } = server;
  try {
    const pids = server.pids();
    const loadRes = await mf.dispatchFetch("http://probe/load", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ manifest: model.manifest, onnx_base64: Buffer.from(model.onnx).toString("base64"), ...(path === "explain" ? { explainer: model.explainer } : {}) }),
    });
    const loaded = (await loadRes.json()) as { max_abs_error?: number; explanation_max_abs_error?: number | null; error?: string };
    if (loadRes.status !== 200 || loaded.max_abs_error === undefined) throw new Error(`probe /load failed: ${loaded.error ?? loadRes.status}`);
    if (loaded.max_abs_error > 1e-5) throw new Error(`probe session does not reproduce the goldens (max error ${loaded.max_abs_error})`);
    if (path === "explain" && !(typeof loaded.explanation_max_abs_error === "number" && loaded.explanation_max_abs_error <= 1e-6)) {
      throw new Error(`probe explainer does not reproduce the goldens' explanations (max error ${loaded.explanation_max_abs_error})`);
    }

    const time = async (rows: number, reps: number): Promise<number> => {
      const started = performance.now();
      const res = await mf.dispatchFetch(`http://probe/${path}?rows=${rows}&reps=${reps}`);
      const body = await res.text();
      const ms = performance.now() - started;
      if (res.status !== 200) throw new Error(`probe /${path} answered ${res.status}: ${body.slice(0, 300)}`);
      return ms;
    };

    const measure = async (phase: InferenceFigure["phase"]): Promise<InferenceFigure[]> => {
      const figures: InferenceFigure[] = [];
      for (const rows of options.rowCounts) {
        for (let i = 0; i < 3; i++) await time(rows, 2);
        // Calibrate: double reps until one request carries ~20 ms, then scale to the target.
        let k = 1;
        let t = 0;
        for (;;) {
          t = (await time(rows, k)) - (await time(rows, 0));
          if (t >= 20 || k >= 1 << 16) break;
          k *= 2;
        }
        const reps = Math.max(1, Math.round((options.targetMs * k) / Math.max(t, 0.001)));
        const diffs: number[] = [];
        const empties: number[] = [];
        for (let s = 0; s < options.samples; s++) {
          // Alternate the order so drift (the other core busy, GC) hits both sides alike.
          let t0: number;
          let tR: number;
          if (s % 2) {
            t0 = await time(rows, 0);
            tR = await time(rows, reps);
          } else {
            tR = await time(rows, reps);
            t0 = await time(rows, 0);
          }
          diffs.push(tR - t0);
          empties.push(t0);
        }
        const cpuBlock = async (r: number) => {
          const start = cpuMs(pids);
          for (let i = 0; i < options.samples; i++) await time(rows, r);
          return cpuMs(pids) - start;
        };
        const cpuPerCallMs = ((await cpuBlock(reps)) - (await cpuBlock(0))) / (options.samples * reps);
        const perCallMs = median(diffs) / reps;
        const perRow = diffs.map((d) => d / reps / rows).sort((a, b) => a - b);
        const figure: InferenceFigure = {
          phase,
          rows,
          reps,
          samples: options.samples,
          perCallMs,
          perRowMs: perCallMs / rows,
          per1000RowsMs: (perCallMs / rows) * 1000,
          perRowIqrMs: [percentile(perRow, 25), percentile(perRow, 75)],
          emptyRequestMs: median(empties),
          cpuPerCallMs,
          cpuPerRowMs: cpuPerCallMs / rows,
        };
        options.log(
          `  ${phase}, ${rows} row(s)/call: ${perCallMs.toFixed(3)} ms per call, ${(figure.perRowMs * 1000).toFixed(1)} µs per row; ` +
            `CPU ${cpuPerCallMs.toFixed(3)} ms per call (R=${reps}, ${options.samples} pairs)`,
        );
        figures.push(figure);
      }
      return figures;
    };

    const cold = await measure("cold");
    if (options.warmupS <= 0) return { goldenMaxAbsError: loaded.max_abs_error, warmupS: 0, figures: cold, cold };
    options.log(`  warming up: ${options.warmupS} s of back-to-back inference on the largest batch...`);
    const biggest = Math.max(...options.rowCounts);
    const until = performance.now() + options.warmupS * 1000;
    while (performance.now() < until) await time(biggest, path === "explain" ? 1 : Math.max(1, Math.round(10_000 / biggest)));
    const warm = await measure("warm");
    return { goldenMaxAbsError: loaded.max_abs_error, warmupS: options.warmupS, figures: warm, cold };
  } finally {
    await server.stop();
  }
}
