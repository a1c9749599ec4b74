/**
 * `npm run demo:drift`: drift detection end to end against a running `npm start` (--url).
 *  1. sends the generator's normal sample (the rows of data/churn_current.csv: seed <seed>/current)
 *     through /models/:name/predict in batches of 10, fires the cron and checks that nothing is
 *     flagged (the control);
 *  2. sends its drifted sample (data/churn_drifted.csv's stream: monthly_charges +15, month-to-month
 *     contracts three times as likely), 29 times as many rows: a drift that takes over the traffic;
 *  3. fires the cron through wrangler dev's /cdn-cgi/handler/scheduled with a time just after the
 *     current window, so the window holding these samples is reported;
 *  4. prints the report and the dashboard URL, and exits 1 unless the flagged features are exactly
 *     the shifted ones (scripts/lib/demo-expectations.ts says how "shifted" is measured).
 * Both phases land in the same report window (the Worker's clock decides it), so the drifted volume
 * keeps the normal rows from diluting the shift: contract_type's PSI falls with the square of the
 * drifted share. Only a share of requests is sampled (SAMPLE_RATE, or the manifest's
 * monitoring.sample_rate): at 10% the 6,000 requests give about 6,000 sampled rows (batches of 10
 * are sampled whole), and the control phase prints the share actually sampled.
 */
import { defineCommand, runMain } from "citty";
import { DEFAULT_DRIFT } from "../trainer/commands/generate-data";
import { loadConfig } from "../trainer/config";
import { generateChurnRows } from "../trainer/data/synthetic";
import type { DriftReport } from "../worker/monitoring/drift-report-types";
import { expectFlags, type FeatureExpectation } from "./lib/demo-expectations";
import { currentWindow, fireCron, formatReport, reportFor, requestRows, sendRows, servedModel, type ServedModel, settledReport } from "./lib/demo-traffic";

/** Rows of a sampled request kept (SAMPLE_MAX_ROWS_PER_REQUEST's default): batches this size are sampled whole. */
const BATCH = 10;

class DemoFailed extends Error {}

const main = defineCommand({
  meta: { name: "demo:drift", description: "Send normal then drifted traffic to a running npm start, fire the cron and check the drift report" },
  args: {
    url: { type: "string", default: "http://127.0.0.1:8787", description: "the running Worker (npm start)" },
    model: { type: "string", description: "model name (default: mlflow.model_name from the config)" },
    config: { type: "string", default: "config.yaml", description: "where the model name and the generator seed come from" },
    "normal-rows": { type: "string", default: "2000", description: "normal customers to send (the generator's sample size)" },
    "drifted-rows": { type: "string", default: "58000", description: "drifted customers to send after them" },
    concurrency: { type: "string", default: "6" },
  },
  async run({ args }) {
    try {
      await demo(args);
    } catch (error) {
      if (!(error instanceof DemoFailed)) throw error;
      console.error(`\ndemo:drift FAILED: ${error.message}`);
      process.exitCode = 1;
    }
  },
});

interface DemoArgs {
  url: string;
  model?: string;
  config: string;
  "normal-rows": string;
  "drifted-rows": string;
  concurrency: string;
}

async function demo(args: DemoArgs): Promise<void> {
  const { config } = loadConfig(args.config);
  const name = args.model ?? config.mlflow.model_name;
  const seed = config.training.random_state;
  const normalRows = wholeNumber("--normal-rows", args["normal-rows"]);
  const driftedRows = wholeNumber("--drifted-rows", args["drifted-rows"]);
  const concurrency = wholeNumber("--concurrency", args.concurrency);
  const base = args.url.replace(/\/+$/, "");

  const health = await fetch(`${base}/health`).catch(() => null);
  if (!health?.ok) throw new DemoFailed(`nothing answers at ${base}/health: start the service first (npm start), or pass --url`);
  const model = await servedModel(base, name);
  const rate = model.sampleRate;
  console.log(
    `${name} v${model.version} serves production; manifest monitoring.sample_rate ${rate ?? "absent"} (the Worker's SAMPLE_RATE applies without it), ${model.windowHours} h report windows`,
  );
  if (rate !== null && rate * normalRows < 2 * model.minSamples) {
    console.warn(`! at ${rate * 100}% only about ${Math.round(rate * normalRows)} normal rows will be sampled (min_samples ${model.minSamples}): pass a larger --normal-rows`);
  }
  const window = currentWindow(Date.now(), model.windowHours);
  const report = async () => {
    if (Date.now() >= window.endMs) throw new DemoFailed("the report window ended while traffic was being sent; run the demo again");
    return settledReport(
      () => fireCron(base, window.endMs + 60_000),
      () => reportFor(base, name, model.version, window.startMs),
    );
  };

  // Samples already in the window (an earlier run today, other traffic) are part of every report.
  const before = (await report()).samples.total;
  if (before > 0) console.log(`note: the window already holds ${before} sampled rows from earlier traffic; they count in the reports below`);

  console.log(`\n== 1. normal traffic: ${normalRows} customers (the generator's normal sample, seed ${seed}/current)`);
  await send(base, model, generateChurnRows({ rows: normalRows, seed: `${seed}/current` }), concurrency);
  const control = await report();
  const sampled = control.samples.total - before;
  console.log(`   sampled ${sampled} of ${normalRows} rows (${((100 * sampled) / normalRows).toFixed(1)}%)\n\n${formatReport(control)}`);
  if (before === 0) check(control, expectFlags(control, { normalRows, driftedRows: 0, drift: DEFAULT_DRIFT }), "control");
  else console.log("(control not checked: the window held earlier traffic)");

  const share = ((100 * driftedRows) / (normalRows + driftedRows)).toFixed(1);
  console.log(`\n== 2. drifted traffic: ${driftedRows} customers (seed ${seed}/drifted; monthly_charges +15, Month-to-month x3), ${share}% of this run's rows`);
  await send(base, model, generateChurnRows({ rows: driftedRows, seed: `${seed}/drifted`, drift: DEFAULT_DRIFT }), concurrency);

  console.log(`\n== 3. firing the cron as at ${new Date(window.endMs + 60_000).toISOString()}: reports the window ${new Date(window.startMs).toISOString()} → ${new Date(window.endMs).toISOString()}`);
  const drifted = await report();
  console.log(`\n== 4. drift report\n\n${formatReport(drifted)}`);
  console.log(`\ndashboard: ${base}/monitoring?model=${encodeURIComponent(name)}`);
  const flagged = check(drifted, expectFlags(drifted, { normalRows, driftedRows, drift: DEFAULT_DRIFT }), "drift");
  console.log(`\ndemo:drift passed: the control flagged nothing; the drifted window flags ${flagged.join(", ")}, exactly the shifted features`);
}

async function send(base: string, model: ServedModel, rows: Parameters<typeof requestRows>[0], concurrency: number): Promise<void> {
  const started = Date.now();
  const requests = await sendRows(base, model.name, requestRows(rows, model.features), { batch: BATCH, concurrency });
  console.log(`   ${requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Prints the expectation table; throws unless every flag agrees. Returns the flagged features. */
function check(report: DriftReport, expectations: FeatureExpectation[], label: string): string[] {
  if (!report.features.length) {
    const hint = report.status === "no_samples" ? ": is sampling off? (SAMPLE_RATE in wrangler.toml, monitoring.sample_rate in config.yaml)" : "";
    throw new DemoFailed(`the ${label} report tested no feature: ${report.status}${report.reason ? ` (${report.reason})` : ""}${hint}`);
  }
  console.log(`\nexpected (${label}): PSI of a 100k-row population in the same mix on the report's reference bins, vs psi_threshold ${report.settings.psi_threshold} ± 3 standard errors:`);
  for (const e of expectations) {
    const psiText = `${e.populationPsi.toFixed(3)} ± ${(3 * e.standardError).toFixed(3)}`;
    console.log(`  ${e.name.padEnd(18)} ${psiText.padStart(14)}  ${e.expected.padEnd(10)}  ${(e.flagged ? "flagged" : "not flagged").padEnd(11)}  ${e.ok ? "ok" : "WRONG"}`);
  }
  const flagged = expectations.filter((e) => e.flagged).map((e) => e.name);
  const wrong = expectations.filter((e) => !e.ok);
  if (wrong.length) throw new DemoFailed(`the ${label} report flags ${flagged.join(", ") || "nothing"}; wrong for ${wrong.map((e) => `${e.name} (${e.expected})`).join(", ")}`);
  const borderline = expectations.filter((e) => e.expected === "borderline");
  if (borderline.length) console.log(`  borderline (either verdict is right): ${borderline.map((e) => `${e.name} ${e.flagged ? "flagged" : "not flagged"}`).join(", ")}`);
  return flagged;
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new DemoFailed(`${flag} must be a whole number >= 1, got ${JSON.stringify(value)}`);
  return n;
}

runMain(main);
