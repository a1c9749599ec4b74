/**
 * The rollout panel on GET /monitoring, over real D1, R2, ORT and metrics: a rollout started with a
 * hostile reason and judged by the minute cron on real traffic shows its step, the strip, the ramp
 * chart, every check with both arms' numbers as the API reports them, and the timeline, with the
 * reason escaped; an aborted one shows in brief; a model without rollouts has no panel.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../worker/db/open-db";
import { clearResolveCache } from "../../worker/registry/resolve-cache";
import { ROLLOUT_CRON } from "../../worker/rollouts/rollout-cron";
import { abortRollout, rolloutBodySchema, type RolloutView, startRollout } from "../../worker/rollouts/rollouts";
import worker from "../../worker/index";
import { get, observationsSettled, registerFixture, requestApp, twoVersions, VALID_ROW } from "./helpers";

const MINUTE = 60_000;
const HOSTILE = `<script>alert("x")</script>`;
const ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";

async function monitoring(name: string): Promise<string> {
  const res = await get(`/monitoring?model=${name}`);
  expect(res.status).toBe(200);
  return res.text();
}

/** A rollout of version 2 whose first step began two minutes ago, so one passing cron run advances it. */
async function startedRollout(name: string, reason: string, minRequests = 20): Promise<RolloutView> {
  const body = rolloutBodySchema.parse({ version: 2, steps: [50, 100], step_minutes: 1, min_requests: minRequests, reason, checks: { min_scores: 10 } });
  const rollout = await startRollout(openDb(env.DB), { ...body, name, by: "panel-test", now: Date.now() - 2 * MINUTE, defaultAlias: "production" });
  clearResolveCache();
  return rollout;
}

async function sampledRequests(name: string, n: number): Promise<void> {
  const init = (i: number) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...VALID_ROW, tenure: i % 70 }) });
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => requestApp(`/models/${name}/predict`, init(i), { SAMPLE_RATE: "1" })));
  expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
  await observationsSettled();
}

async function fireRolloutCron(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: ROLLOUT_CRON }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const between = (body: string, start: string, end: string) => body.slice(body.indexOf(start), body.indexOf(end, body.indexOf(start)));

describe("the rollout panel on GET /monitoring", () => {
  it("shows an active rollout after a cron evaluation: step, strip, ramp chart, both arms' numbers per check, timeline; the reason escaped", async () => {
    const name = await twoVersions("forest");
    await startedRollout(name, `ramp ${HOSTILE}`);
    await sampledRequests(name, 100);
    await fireRolloutCron(Date.now());
    const api = (await (await get(`/models/${name}/rollouts/current`)).json()) as RolloutView;
    expect(api).toMatchObject({ status: "active", step: 2, percent: 100 });
    const evaluation = api.last_evaluation!;
    expect(evaluation.decision).toBe("pass");

    const body = await monitoring(name);
    expect(body).not.toContain("<script>");
    const panel = between(body, `<article class="rollout active" data-rollout="${api.id}">`, "</article>");
    expect(panel).toContain("step 2 of 2");
    expect(panel).toContain(`<strong class="percent">100%</strong>`);
    expect(panel).toContain(`ramp ${ESCAPED}`);
    expect(panel).toContain(`<li class="done">50%</li><li class="current" aria-current="step">100%</li>`);

    const requests = evaluation.checks.find((c) => c.name === "requests")!;
    expect(requests.primary! + requests.canary!).toBe(100);
    expect(between(panel, `<tr data-check="requests">`, "</tr>")).toContain(`<td class="num">${requests.primary}</td><td class="num">${requests.canary}</td><td class="num">≥ 20</td><td><span class="verdict pass">pass</span>`);
    const errors = between(panel, `<tr data-check="error_rate">`, "</tr>");
    expect(errors).toContain(`<td class="num">0.00%</td><td class="num">0.00%</td><td class="num">≤ 0.50%</td>`);
    const psi = evaluation.checks.find((c) => c.name === "score_psi")!;
    expect(between(panel, `<tr data-check="score_psi">`, "</tr>")).toContain(`<td class="num">${psi.canary!.toFixed(3)}</td><td class="num">≤ 0.200</td>`);
    expect(between(panel, `<tr data-check="realized_auc">`, "</tr>")).toContain(`<span class="verdict not-judged">not judged</span> <span class="muted">fewer than 100 labels`);
    expect(panel.match(/<tr data-check=/g)).toHaveLength(evaluation.checks.length);

    const timeline = between(panel, `<table class="timeline">`, "</table>");
    expect([...timeline.matchAll(/data-decision="(\w+)"/g)].map((m) => m[1])).toEqual(["started", "advanced"]);
    expect(timeline).toContain(`<td class="reason">ramp ${ESCAPED}</td>`);
    expect(timeline).toContain(`<td class="reason">step 1 passed</td>`);

    const ramp = between(panel, `<svg class="chart rollout-ramp"`, "</svg>");
    expect(ramp).toMatch(/width="560" height="150" viewBox="0 0 560 150"/);
    expect(ramp.match(/<circle /g)).toHaveLength(2);
    expect(ramp).toMatch(/<path d="M40,\d+(\.\d)? H[\d.]+ V10 H548"/);
  });

  it("says a step not judged yet is waiting, with the check's note, and before any cron run that nothing was evaluated", async () => {
    const name = await twoVersions("forest");
    await startedRollout(name, "slow", 1000);
    expect(await monitoring(name)).toContain("Not evaluated yet");
    await fireRolloutCron(Date.now());
    const panel = between(await monitoring(name), `<article class="rollout active"`, "</article>");
    expect(panel).toContain("step 1 of 2");
    expect(panel).toContain("the step waits.");
    expect(between(panel, `<tr data-check="requests">`, "</tr>")).toContain(
      `<td class="num">0</td><td class="num">0</td><td class="num">≥ 1000</td><td><span class="verdict waiting">waiting</span> <span class="muted">fewer than 1000 requests on the primary: waiting</span>`,
    );
  });

  it("shows the newest ended rollout in brief with its escaped reason, and no panel for a model without rollouts", async () => {
    const name = await twoVersions("forest");
    const rollout = await startedRollout(name, "first try");
    await abortRollout(openDb(env.DB), { name, id: rollout.id, by: "panel-test", reason: `stop ${HOSTILE}`, now: Date.now() });
    const body = await monitoring(name);
    expect(body).not.toContain("<script>");
    expect(body).toContain("No active rollout.");
    const ended = between(body, `<details class="rollout ended" data-rollout="${rollout.id}">`, "</details>");
    expect(ended).toContain(`<span class="verdict fail">aborted</span>`);
    expect(ended).toContain(`at step 1 (50%): <span class="reason">stop ${ESCAPED}</span>`);
    expect([...ended.matchAll(/data-decision="(\w+)"/g)].map((m) => m[1])).toEqual(["started", "aborted"]);
    expect(body).not.toContain("rollout-ramp");

    const { manifest } = await registerFixture("forest");
    const plain = await monitoring(manifest.name);
    expect(plain).toContain(`data-model="${manifest.name}"`);
    expect(plain).not.toContain(`class="rollouts"`);
    expect(plain).not.toContain("Rollout");
  });
});
