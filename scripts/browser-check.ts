/**
 * `npm run test:browser`: the monitoring dashboard in a real browser (Debian's chromium driven by
 * playwright-core), against a real `wrangler dev` this script starts on a temp state, so the
 * user's .wrangler state is never touched:
 *  1. trains a small model with the real trainer (reference.json and explainer.json included) and publishes it as
 *     production into the temp state, then moves canary onto it with a hostile reason;
 *  2. starts wrangler dev (SAMPLE_RATE 1) and sends the generator's normal and drifted customers;
 *  3. fires the cron through /cdn-cgi/handler/scheduled for the window holding those samples, with
 *     the very command the dashboard's empty state prints;
 *  (before any traffic, the empty state is checked in the browser too: it says what is missing)
 *  4. starts a rollout of a second version through POST /admin/models/:name/rollouts (with a hostile
 *     reason), sends traffic to both arms and fires the minute cron through
 *     /cdn-cgi/handler/scheduled until the rollout's step has been judged;
 *  5. opens /monitoring and checks every chart (present, non-zero box, marks drawn; the report's
 *     attribution drift with a reference and a current bar per feature; the rollout panel's ramp,
 *     step strip and checks), no console
 *     error, failed request or dialog, no script element, the hostile text shown as text; saves a
 *     full-page screenshot.
 * Exits 1 on any problem; wrangler dev is stopped by its process group and the browser closed in
 * every case.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { chromium, type Browser } from "playwright-core";
import { DEFAULT_DRIFT } from "../trainer/commands/generate-data";
import { parseConfig } from "../trainer/config";
import { generateChurnRows, toCsv } from "../trainer/data/synthetic";
import { runTraining } from "../trainer/pipeline/train-run";
import { openDb } from "../worker/db/open-db";
import { setAlias } from "../worker/registry/aliases";
import type { RolloutView } from "../worker/rollouts/rollouts";
import { checkDashboardPage } from "./lib/browser-page-checks";
import { currentWindow, formatReport, reportFor, requestRows, sendRows, servedModel, settledReport } from "./lib/demo-traffic";
import { applyLocalMigrations, registerArtifactDir, withLocalBindings } from "../trainer/local-registry";
import { PROJECT_ROOT } from "../trainer/offline-env";
import { startWranglerDev, type WranglerDev } from "./lib/wrangler-dev-server";

const MODEL = "churn-browser-check";
const HOSTILE_REASON = `browser check <script>alert("xss")</script> & "quotes"`;
const HOSTILE_ROLLOUT_REASON = `rollout check <img src=x onerror=alert(1)> & "quotes"`;
const ADMIN_TOKEN = randomBytes(24).toString("hex");
const MINUTE = 60_000;

/** A small forest (fast to train) with the default churn features and monitoring settings. */
const CONFIG = {
  mlflow: { model_name: MODEL, description: "Trained by npm run test:browser" },
  data: { train_path: "train.csv", target_column: "churned" },
  features: {
    numeric: ["tenure", "monthly_charges", "total_charges", "num_products"],
    categorical: ["contract_type", "payment_method", "internet_service"],
    columns: { total_charges: { min: 0, nullable: true, missing: "median" }, contract_type: { values: ["Month-to-month", "One year", "Two year"], closed: true } },
  },
  training: { val_size: 0.25, random_state: 11, reference_sample_size: 500 },
  model: { type: "random_forest", n_estimators: 30, max_depth: 6 },
  output: { label: "churn" },
  monitoring: { min_samples: 50 },
};

async function trainModel(work: string): Promise<string> {
  const trainPath = join(work, "train.csv");
  await writeFile(trainPath, toCsv(generateChurnRows({ rows: 2000, seed: 11, messy: true })));
  const config = parseConfig({ ...CONFIG, data: { ...CONFIG.data, train_path: trainPath } });
  const result = await runTraining(config, { configText: JSON.stringify(CONFIG), artifactsDir: join(work, "artifacts") });
  return result.dir;
}

/** The curl URL the dashboard's "no drift report yet" state tells the user to run. */
async function cronHint(url: string): Promise<string> {
  const html = await (await fetch(url)).text();
  const found = html.match(/<code>curl '([^']+)'<\/code>/)?.[1];
  if (!found) throw new Error("the empty state shows no cron command");
  return found.replace(/&amp;/g, "&");
}

/**
 * Starts a rollout of `version` at 50% through the admin API, sends one-row requests to both arms,
 * then fires the minute cron (a minute later each time, so no run is skipped as already evaluated)
 * until a step has been judged on enough requests (sampled scores reach D1 through the queue, so
 * the first run may still wait).
 */
async function judgedRollout(base: string, version: number): Promise<RolloutView> {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
  const body = { version, steps: [50, 100], step_minutes: 1, min_requests: 10, checks: { min_scores: 10 }, reason: HOSTILE_ROLLOUT_REASON };
  const started = await fetch(`${base}/admin/models/${MODEL}/rollouts`, { method: "POST", headers: admin, body: JSON.stringify(body) });
  if (started.status !== 201) throw new Error(`starting the rollout answered ${started.status}: ${(await started.text()).slice(0, 300)}`);
  const model = await servedModel(base, MODEL);
  await sendRows(base, MODEL, requestRows(generateChurnRows({ rows: 80, seed: "browser/rollout" }), model.features), { batch: 1 });
  let rollout = (await started.json()) as RolloutView;
  for (let attempt = 1; attempt <= 6; attempt++) {
    const time = Date.now() + (attempt + 1) * MINUTE;
    const fired = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*&time=${time}`);
    if (!fired.ok) throw new Error(`the minute cron answered ${fired.status}`);
    rollout = (await (await fetch(`${base}/models/${MODEL}/rollouts`)).json() as { rollouts: RolloutView[] }).rollouts[0]!;
    if (rollout.status !== "active" || rollout.step > 1 || rollout.last_evaluation?.checks.some((c) => c.name === "score_psi" && c.pass !== null)) return rollout;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (!rollout.last_evaluation) throw new Error("the minute cron never evaluated the rollout");
  return rollout;
}

function step(text: string): void {
  console.log(`• ${text}`);
}

const main = defineCommand({
  meta: { name: "test:browser", description: "Open /monitoring in Debian's chromium against a fresh wrangler dev and check that the charts render" },
  args: {
    screenshot: { type: "string", description: "where the full-page screenshot goes", default: ".artifacts/browser-check/monitoring.png" },
    chromium: { type: "string", description: "the browser binary", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    keep: { type: "boolean", default: false, description: "keep the temp state (its path is printed)" },
  },
  async run({ args }) {
    if (!existsSync(args.chromium)) {
      console.error(`no browser at ${args.chromium}: apt-get install -y chromium (or pass --chromium / CHROMIUM_PATH)`);
      process.exitCode = 1;
      return;
    }
    const screenshot = resolve(PROJECT_ROOT, args.screenshot);
    const work = await mkdtemp(join(tmpdir(), "browser-check-"));
    const state = join(work, "state");
    let server: WranglerDev | undefined;
    let browser: Browser | undefined;
    const problems: string[] = [];
    try {
      step("training a small model (real trainer, reference.json and explainer.json included)");
      const runDir = await trainModel(work);
      step(`publishing ${MODEL} as production into a temp state (${state})`);
      applyLocalMigrations(state);
      await withLocalBindings(async (env) => {
        const { version } = await registerArtifactDir(env, runDir, { aliases: ["production"], createdBy: "browser-check", reason: "npm run test:browser" });
        await setAlias(openDb(env.DB), { name: MODEL, alias: "canary", version, by: "browser-check", reason: HOSTILE_REASON });
        // The same artifacts again as the version the rollout ramps up (step 4).
        await registerArtifactDir(env, runDir, { aliases: [], createdBy: "browser-check", reason: "npm run test:browser: rollout candidate" });
      }, state);

      server = await startWranglerDev(state, { DEFAULT_MODEL: MODEL, SAMPLE_RATE: "1", ADMIN_TOKEN });
      const base = server.base;
      step(`wrangler dev at ${base}`);
      browser = await chromium.launch({ executablePath: args.chromium, args: ["--no-sandbox"] });
      await mkdir(dirname(screenshot), { recursive: true });
      const url = `${server.base}/monitoring`;
      const emptyShot = screenshot.replace(/(\.png)?$/, "-empty.png");
      step(`opening ${url} before any traffic in ${browser.version()}`);
      const empty = await checkDashboardPage(browser, { url, features: [], literalText: ["No drift report yet", HOSTILE_REASON], charts: false, screenshot: emptyShot });
      problems.push(...empty.problems.map((p) => `empty state: ${p}`));

      const model = await servedModel(server.base, MODEL);
      const normal = requestRows(generateChurnRows({ rows: 150, seed: "browser/current" }), model.features);
      const drifted = requestRows(generateChurnRows({ rows: 600, seed: "browser/drifted", drift: DEFAULT_DRIFT }), model.features);
      const requests = (await sendRows(server.base, MODEL, normal)) + (await sendRows(server.base, MODEL, drifted));
      step(`sent ${normal.length} normal and ${drifted.length} drifted customers in ${requests} requests`);

      // The cron is fired with the command the empty state prints, which must report today's window.
      const window = currentWindow(Date.now(), model.windowHours);
      const hint = await cronHint(url);
      step(`firing the cron with the empty state's command: curl '${hint}'`);
      const report = await settledReport(
        async () => {
          const fired = await fetch(hint);
          if (!fired.ok) throw new Error(`the empty state's cron command answered ${fired.status}`);
        },
        () => reportFor(base, MODEL, model.version, window.startMs),
      );
      step(`report for ${report.window.start} says ${report.status}`);
      console.log(formatReport(report).replace(/^/gm, "    "));
      if (!report.features.length) throw new Error(`the report tested no feature (${report.status}: ${report.reason ?? ""}), so there is nothing to draw`);
      if (report.attribution?.status !== "ok")
        throw new Error(`the report has no attribution drift to draw (${report.attribution ? `error: ${report.attribution.reason}` : "no attribution block: was the model published with its explainer?"})`);

      const rollout = await judgedRollout(base, model.version + 1);
      step(`rollout ${rollout.id}: step ${rollout.step} (${rollout.percent}%), latest evaluation ${rollout.last_evaluation?.decision}, timeline ${rollout.timeline.map((e) => e.decision).join(" → ")}`);

      step(`opening ${url} after the report and the rollout`);
      const result = await checkDashboardPage(browser, {
        url,
        features: report.features.map((f) => f.name),
        attributionFeatures: report.attribution.features.map((f) => f.name),
        rollout: { checks: rollout.last_evaluation?.checks.length ?? 0, steps: rollout.steps.length },
        literalText: [HOSTILE_REASON, HOSTILE_ROLLOUT_REASON],
        screenshot,
      });
      for (const c of result.charts) console.log(`    ${c.kind.padEnd(16)} ${(c.feature ?? "").padEnd(18)} ${c.width.toFixed(0)}×${c.height.toFixed(0)} px, ${c.marks} marks`);
      console.log(`screenshots: ${screenshot} (empty state: ${emptyShot})`);
      problems.push(...result.problems);
      if (problems.length) {
        console.error(`\ntest:browser FAILED:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        process.exitCode = 1;
      } else {
        console.log(`\ntest:browser passed: ${result.charts.length} charts rendered, no console errors or failed requests`);
      }
    } catch (error) {
      console.error(`\ntest:browser FAILED: ${error instanceof Error ? error.message : String(error)}`);
      if (server) console.error(`wrangler dev log tail:\n${server.log().slice(-2000)}`);
      process.exitCode = 1;
    } finally {
      await browser?.close();
      await server?.stop();
      if (args.keep) console.log(`state kept in ${work}`);
      else await rm(work, { recursive: true, force: true });
    }
  },
});

runMain(main);
