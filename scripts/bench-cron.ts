/**
 * Measures the monitoring cron on a full window (a measurement, not a test): request_samples seeded
 * with N rows (default 100,000) for the default model's production version, spread over the hours
 * of the window the cron reports on; then, per run, a fresh workerd serving the built bundle over a
 * copy of that state, the cron fired through GET /cdn-cgi/handler/scheduled?cron=…&time=… (as in
 * wrangler dev), and workerd's CPU time (main thread and whole process, /proc, idle rate
 * subtracted), wall time and peak memory around it, against Cloudflare's Cron Trigger CPU limits.
 *
 *   npx tsx scripts/bench-cron.ts [--samples 100000] [--runs 3] [--drifted-share 0.5] [--model <artifact dir>] [--json]
 *
 * The report the run wrote is read back from D1 and must cover all N samples. Everything started is
 * stopped and removed at the end.
 */
import { cpSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { monitoringOf } from "../worker/contract/manifest";
import { lastCompleteWindow } from "../worker/monitoring/drift-report";
import { installCleanupHandlers, makeTempDir, runCleanups } from "./bench/cleanup";
import { CLOUDFLARE_LIMITS } from "./bench/limits-report";
import { cpuSnapshot, cpuSpanMs, memoryKiB } from "./bench/proc-cpu";
import { median } from "./bench/order-statistics";
import { reportHeader, runEnvironment } from "./bench/report-header";
import { buildBundle, sleep } from "./bench/process";
import { positiveArg } from "./bench/positive-arg";
import { publishModels, queryState, readBenchModel } from "./bench/registry-state";
import { seedSamples } from "./bench/sample-seed";
import { watchIsolateHeap } from "./bench/isolate-heap";
import { startDirect } from "./bench/servers";
import { trainDefaultModel } from "./bench/train-default";
import { readRegistryConfig } from "./bench/wrangler-config";
import { freePort } from "./lib/wrangler-dev-server";

const ROOT = resolve(import.meta.dirname, "..");
const log = (line: string) => process.stderr.write(`${line}\n`);
const CRON = "0 * * * *";

interface CronRun {
  mainCpuMs: number;
  cpuMs: number;
  wallMs: number;
  coarse: boolean;
  rssBeforeMiB: number;
  peakMiB: number;
  status: string;
  samplesInReport: number;
  driftedFeatures: string[];
}

const command = defineCommand({
  meta: { name: "bench-cron", description: "CPU and wall time of the drift cron on a full window of samples" },
  args: {
    samples: { type: "string", description: "rows of request_samples in the window", default: "100000" },
    runs: { type: "string", description: "cron runs, each on a fresh workerd over a fresh copy of the seeded state", default: "3" },
    "heap-runs": {
      type: "string",
      description: "further runs with workerd's inspector attached, for the isolate's peak V8 heap (kept apart from the CPU runs); 0 = none",
      default: "1",
    },
    "drifted-share": { type: "string", description: "share of seeded rows drawn from data/churn_drifted.csv", default: "0.5" },
    model: { type: "string", description: "artifact dir of the model (default: train config.yaml's into a temp dir)" },
    json: { type: "boolean", description: "print the figures as JSON on stdout", default: false },
  },
  async run({ args }) {
    installCleanupHandlers();
    const count = positiveArg("samples", args.samples);
    const runs = positiveArg("runs", args.runs);
    const heapRuns = args["heap-runs"] === "0" ? 0 : positiveArg("heap-runs", args["heap-runs"]);
    const driftedShare = Number(args["drifted-share"]);
    if (!(driftedShare >= 0 && driftedShare <= 1)) throw new Error(`--drifted-share must be between 0 and 1, got ${args["drifted-share"]}`);
    try {
      const tmp = makeTempDir("bench-cron-");
      const config = readRegistryConfig(ROOT);
      const bundleDir = join(tmp, "bundle");
      log("building the bundle (wrangler deploy --dry-run)...");
      await buildBundle(ROOT, bundleDir);
      let modelDir = args.model ? resolve(ROOT, args.model) : "";
      if (!modelDir) {
        log("training the default model (config.yaml) into a temp dir...");
        modelDir = await trainDefaultModel(join(tmp, "artifacts"));
      }
      const model = readBenchModel(modelDir);
      if (model.reference === undefined) throw new Error(`${modelDir} has no reference.json: the cron would report no_reference`);
      const template = join(tmp, "state");
      const [published] = await publishModels(template, config, join(ROOT, "migrations"), [{ model, aliases: ["production"] }]);
      const windowHours = monitoringOf(model.manifest).window_hours;
      // Half an hour past a window boundary: the cron reports on the window that just closed.
      const lengthMs = windowHours * 3_600_000;
      const scheduledTime = Math.floor(Date.now() / lengthMs) * lengthMs + 30 * 60_000;
      const window = lastCompleteWindow(scheduledTime, windowHours);
      log(
        `seeding ${count.toLocaleString("en-US")} samples for ${published!.name} v${published!.version} over ` +
          `${new Date(window.startMs).toISOString()} .. ${new Date(window.endMs).toISOString()} (${windowHours} h)...`,
      );
      const seeded = await seedSamples(template, config, {
        model,
        version: published!.version,
        count,
        windowStartMs: window.startMs,
        windowHours,
        normalCsv: join(ROOT, "data", "churn_current.csv"),
        driftedCsv: join(ROOT, "data", "churn_drifted.csv"),
        driftedShare,
        seed: 42,
      });
      if (seeded.rows !== count) throw new Error(`seeded ${seeded.rows} rows, expected ${count}`);
      log(`  ${seeded.rows} rows (${(seeded.featureBytes / 2 ** 20).toFixed(1)} MiB of feature JSON) in ${(seeded.ms / 1000).toFixed(1)} s`);

      const results: CronRun[] = [];
      for (let r = 0; r < runs; r++) {
        const stateDir = join(tmp, `run-${r}`);
        cpSync(template, stateDir, { recursive: true });
        const server = await startDirect(bundleDir, stateDir, config, { ...config.vars }, { triggerHandlers: true });
        let run: Omit<CronRun, "status" | "samplesInReport" | "driftedFeatures">;
        try {
          const pids = server.pids();
          await sleep(1000);
          const idleA = cpuSnapshot(pids);
          await sleep(1000);
          const idle = cpuSpanMs(idleA, cpuSnapshot(pids));
          const rssBefore = memoryKiB(pids[0]!).rss;
          const before = cpuSnapshot(pids);
          const started = performance.now();
          const res = await fetch(`${server.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}&time=${scheduledTime}`);
          const body = await res.text();
          const wallMs = performance.now() - started;
          const span = cpuSpanMs(before, cpuSnapshot(pids));
          if (res.status !== 200) throw new Error(`the scheduled handler answered ${res.status}: ${body.slice(0, 400)}`);
          run = {
            mainCpuMs: span.mainMs - (idle.mainMs / idle.wallMs) * span.wallMs,
            cpuMs: span.ms - (idle.ms / idle.wallMs) * span.wallMs,
            wallMs,
            coarse: span.coarse,
            rssBeforeMiB: rssBefore / 1024,
            peakMiB: memoryKiB(pids[0]!).peak / 1024,
          };
        } finally {
          await server.stop();
        }
        const [row] = await queryState<{ status: string; report: string }>(
          stateDir,
          config,
          `SELECT status, report FROM drift_reports WHERE model_name = '${published!.name}' AND version = ${published!.version}`,
        );
        if (!row) throw new Error("the cron wrote no drift report");
        const report = JSON.parse(row.report) as { samples: { total: number }; drifted_features: string[] };
        const done: CronRun = { ...run, status: row.status, samplesInReport: report.samples.total, driftedFeatures: report.drifted_features };
        if (done.samplesInReport !== count) throw new Error(`the report covers ${done.samplesInReport} samples, expected ${count}`);
        results.push(done);
        log(
          `  run ${r + 1}/${runs}: isolate CPU ${done.mainCpuMs.toFixed(0)} ms, process CPU ${done.cpuMs.toFixed(0)} ms, wall ${done.wallMs.toFixed(0)} ms, ` +
            `workerd peak RSS ${done.peakMiB.toFixed(0)} MiB (before ${done.rssBeforeMiB.toFixed(0)}); report ${done.status}, ` +
            `${done.samplesInReport} samples, drifted: ${done.driftedFeatures.join(", ") || "none"}`,
        );
      }
      const heaps: { beforeMiB: number; peakUsedMiB: number; peakTotalMiB: number; samples: number }[] = [];
      for (let r = 0; r < heapRuns; r++) {
        const stateDir = join(tmp, `heap-run-${r}`);
        cpSync(template, stateDir, { recursive: true });
        const inspectorPort = await freePort();
        const server = await startDirect(bundleDir, stateDir, config, { ...config.vars }, { triggerHandlers: true, inspectorPort });
        try {
          const before = await watchIsolateHeap(inspectorPort);
          await sleep(200);
          const idle = await before.stop();
          const watch = await watchIsolateHeap(inspectorPort);
          const res = await fetch(`${server.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}&time=${scheduledTime}`);
          await res.text();
          const peak = await watch.stop();
          heaps.push({ beforeMiB: idle.peakUsedMiB, ...peak });
          log(
            `  heap run ${r + 1}/${heapRuns}: isolate V8 heap used ${idle.peakUsedMiB.toFixed(1)} MiB before, peak ${peak.peakUsedMiB.toFixed(1)} MiB ` +
              `used / ${peak.peakTotalMiB.toFixed(1)} MiB allocated (${peak.samples} samples at await points)`,
          );
        } finally {
          await server.stop();
        }
      }
      const m = (pick: (r: CronRun) => number) => median(results.map(pick));
      const summary = {
        ...runEnvironment(ROOT),
        model: `${published!.name} v${published!.version}`,
        samples: count,
        windowHours,
        cron: CRON,
        runs: results,
        heap: heaps,
        median: { mainCpuMs: m((r) => r.mainCpuMs), cpuMs: m((r) => r.cpuMs), wallMs: m((r) => r.wallMs), peakMiB: m((r) => r.peakMiB), rssBeforeMiB: m((r) => r.rssBeforeMiB) },
      };
      if (args.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const L = CLOUDFLARE_LIMITS;
      const s = summary.median;
      const worst = Math.max(...results.map((r) => r.cpuMs));
      process.stdout.write(
        [
          "",
          reportHeader("bench-cron", summary),
          `drift cron on ${count.toLocaleString("en-US")} samples in one ${windowHours} h window of ${summary.model} (${(100 * driftedShare).toFixed(0)}% drawn from the drifted data), ` +
            `fired with cron "${CRON}" on a fresh workerd per run; medians of ${runs} runs:`,
          `  isolate CPU (workerd main thread) ${s.mainCpuMs.toFixed(0)} ms; whole process ${s.cpuMs.toFixed(0)} ms (max ${worst.toFixed(0)}); wall ${s.wallMs.toFixed(0)} ms`,
          `  workerd resident memory: ${s.rssBeforeMiB.toFixed(0)} MiB before, peak ${s.peakMiB.toFixed(0)} MiB (whole process, D1 simulator included; isolates may use 128 MB)`,
          ...(heaps.length
            ? [
                `  isolate V8 heap (inspector, ${heaps.length} separate run${heaps.length > 1 ? "s" : ""}): peak ${median(heaps.map((h) => h.peakUsedMiB)).toFixed(1)} MiB used, ` +
                  `${median(heaps.map((h) => h.peakTotalMiB)).toFixed(1)} MiB allocated, against the 128 MB per-isolate memory limit (JS heap + wasm memory)`,
              ]
            : []),
          `  report: ${results[0]!.status}, ${results[0]!.samplesInReport.toLocaleString("en-US")} samples, drifted: ${results[0]!.driftedFeatures.join(", ") || "none"}`,
          "Includes the local D1 simulator reading the rows (same workerd); on Cloudflare, D1 runs elsewhere, so these are upper bounds.",
          `Cron Trigger CPU limits (Paid): ${L.cronUnderHourCpuMs / 1000} s when the schedule interval is under 1 hour -> ${worst <= L.cronUnderHourCpuMs ? "within" : "OVER"}; ` +
            `${L.cronHourlyCpuMs / 60_000} min when it is 1 hour or more -> ${worst <= L.cronHourlyCpuMs ? "within" : "OVER"}. ` +
            `Free plan: 10 ms -> ${worst <= L.freeCpuMs ? "within" : "OVER"}.`,
          "",
        ].join("\n"),
      );
    } finally {
      await runCleanups();
    }
  },
});

runMain(command);
