/**
 * `npm run rollout`: its arguments (the CLI binary where exit codes are the point), the request
 * body it builds from flags over config.yaml's rollout: section, the status text, and start →
 * status → abort on a local registry (wrangler's platform proxy over a temp --persist-to state,
 * two fixture models published through the worker's own publish path).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryTarget } from "../../trainer/commands/registry-args";
import { abortModelRollout, parseAction, parseSteps, rolloutStartBody, rolloutStatus, startModelRollout } from "../../trainer/commands/rollout";
import { trafficPolicy } from "../../trainer/commands/traffic";
import { PROJECT_ROOT } from "../../trainer/offline-env";
import type { RolloutView } from "../../trainer/registry-client";
import { withRegistry } from "../../trainer/commands/registry-args";
import { checkRows, describeRollout, describeRolloutHistory } from "../../trainer/report/rollout-status";
import { cachedFixtureModels } from "../fixtures/fixture-cache";
import { runCommand } from "../helpers/run-command";

const NAME = "churn-rollout-cli";

function cli(args: string[]) {
  return runCommand("npx", ["tsx", "trainer/cli.ts", "rollout", ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ADMIN_TOKEN: "", REGISTRY_URL: "" } });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rollout-cli-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("arguments", () => {
  it("the model comes first; the action defaults to start; an unknown one is named", () => {
    expect(parseAction("churn", undefined)).toBe("start");
    expect(parseAction("churn", "status")).toBe("status");
    expect(() => parseAction("status", undefined)).toThrow("name the model first: rollout <model> status");
    expect(() => parseAction("churn", "stop")).toThrow('unknown action "stop": rollout <model> [start|status|abort|history] (start is the default)');
  });

  it("--steps: comma-separated percents in (0, 100], strictly increasing", () => {
    expect(parseSteps("5, 25,50,100")).toEqual([5, 25, 50, 100]);
    expect(parseSteps("0.5,100")).toEqual([0.5, 100]);
    expect(() => parseSteps("5,25,25")).toThrow('--steps must increase: 25 then 25 in "5,25,25"');
    expect(() => parseSteps("5,,50")).toThrow('got ""');
    expect(() => parseSteps("0,50")).toThrow('got "0"');
    expect(() => parseSteps("50,120")).toThrow('got "120"');
  });

  it("the body: flags over config.yaml's rollout: section; what neither gives is left to the worker", () => {
    expect(rolloutStartBody({ version: 3, steps: [10, 100], reason: " canary " })).toEqual({ version: 3, steps: [10, 100], reason: "canary" });
    const defaults = { steps: [5, 25, 50, 100], step_minutes: 10, checks: { max_score_psi: 0.2, auc_margin: 0.02 } };
    expect(rolloutStartBody({ version: 3, minRequests: 50, checks: { max_score_psi: null }, reason: "r", defaults })).toEqual({
      version: 3,
      steps: [5, 25, 50, 100],
      step_minutes: 10,
      min_requests: 50,
      checks: { max_score_psi: null, auc_margin: 0.02 },
      reason: "r",
    });
    expect(() => rolloutStartBody({ version: 3, reason: "r" })).toThrow("--steps is required (e.g. --steps 5,25,50,100), or set rollout.steps in config.yaml");
    expect(() => rolloutStartBody({ version: 3, steps: [5], reason: "  " })).toThrow("--reason is required");
  });

  it("usage errors exit 2 with the message alone, before any registry is needed", async () => {
    const cases: [string[], string][] = [
      [["churn", "--steps", "5,25", "--reason", "r"], "--version is required to start a rollout (or give an action: status, abort, history)"],
      [["churn", "--version", "v2", "--steps", "5", "--reason", "r"], 'version must be a positive integer, got "v2"'],
      [["churn", "status", "--version", "2"], "--version is for starting a rollout: drop it from `rollout <model> status`"],
      [["churn", "abort", "--reason", "r"], "abort needs --id (the rollout's id, see `rollout <model> status`) and --reason"],
      [["churn", "abort", "--id", "x", "--reason", "r"], '--id must be a positive integer, got "x"'],
      [["churn", "--version", "2", "--steps", "5", "--max-latency-ratio", "fast", "--reason", "r"], '--max-latency-ratio must be a number, got "fast"'],
      [["churn", "--version", "2", "--steps", "5", "--reason", "r", "--config", join("no", "such.yaml")], `--config ${join("no", "such.yaml")} does not exist`],
      [["churn", "status"], "no registry: pass --registry <url>, set REGISTRY_URL, or use --local for the local state"],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trim(), args.join(" ")).toBe(`error: ${message}`);
    }
    // config.yaml's section is strict like the rest of the file: a misspelt key is named.
    const config = join(dir, "misspelt.yaml");
    await writeFile(config, (await readFile(join(PROJECT_ROOT, "config.yaml"), "utf8")).replace("  step_minutes: 10\n", "  step_minute: 10\n"));
    const misspelt = await cli(["churn", "--version", "2", "--reason", "r", "--config", config]);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain("rollout.step_minute: unknown key");
  }, 120_000);
});

/** A rollout at step 2 of 3, waiting on the canary's requests, as the worker answers it. */
function view(overrides: Partial<RolloutView> = {}): RolloutView {
  const checks = { max_error_rate_increase: 0.5, max_latency_ratio: 1.5, min_latency_requests: 100, max_score_psi: 0.2, score_alpha: 0.01, min_scores: 100, auc_margin: 0.02, min_labels: 100 };
  return {
    id: 7,
    name: "churn",
    version: 5,
    primary_version: 4,
    status: "active",
    steps: [5, 50, 100],
    step: 2,
    percent: 50,
    step_minutes: 10,
    min_requests: 100,
    checks,
    step_started_at: "2026-01-01T00:12:00.000Z",
    started_at: "2026-01-01T00:00:00.000Z",
    started_by: "ci",
    reason: "release abc",
    ended_at: null,
    end_reason: null,
    last_evaluation: {
      at: "2026-01-01T00:14:00.000Z",
      decision: "wait",
      checks: [{ name: "requests", primary: 150, canary: 40, limit: 100, pass: null, blocking: true, note: "fewer than 100 requests on the canary: waiting" }],
    },
    timeline: [
      { at: "2026-01-01T00:00:00.000Z", step: 1, percent: 5, decision: "started", reason: "release abc" },
      { at: "2026-01-01T00:12:00.000Z", step: 2, percent: 50, decision: "advanced", evaluation: { decision: "pass", checks: [] } },
    ],
    ...overrides,
  };
}

describe("output", () => {
  it("each check with both arms' figures in the unit they are read in, the limit, the verdict and the note", () => {
    const rows = checkRows([
      { name: "requests", primary: 150, canary: 120, limit: 100, pass: true, blocking: false },
      { name: "error_rate", primary: 0.002, canary: 0.0125, limit: 0.007, pass: false, blocking: false },
      { name: "latency_p95", primary: 0.0123, canary: 0.0151, limit: 0.01845, pass: true, blocking: false },
      { name: "score_psi", primary: 0, canary: 0.0432, limit: 0.2, pass: true, blocking: false, p_value: 0.3141 },
      { name: "realized_auc", primary: null, canary: null, limit: null, pass: null, blocking: false, note: "fewer than 100 labels of both classes on an arm: not judged" },
    ]);
    // 0.01845 s is 18.450000000000003 ms in floating point: 18.5.
    expect(rows).toEqual([
      "check         primary  canary   limit      result",
      "requests      150      120      ≥ 100      pass",
      "error_rate    0.20%    1.25%    ≤ 0.70%    FAIL",
      "latency_p95   12.3 ms  15.1 ms  ≤ 18.5 ms  pass",
      "score_psi     -        0.043    ≤ 0.200    pass        KS p 0.31",
      "realized_auc  n/a      n/a      -          not judged  fewer than 100 labels of both classes on an arm: not judged",
    ]);
  });

  it("an active rollout: its step, the latest evaluation and the timeline", () => {
    expect(describeRollout(view())).toBe(
      [
        "churn: rollout 7 of version 5 against version 4, active",
        "  step 2 of 3 (5 → 50 → 100%): 50% of the default alias's requests since 2026-01-01T00:12:00.000Z",
        "  each step: at least 10 min and 100 requests per arm",
        "  started 2026-01-01T00:00:00.000Z by ci: release abc",
        "  latest evaluation 2026-01-01T00:14:00.000Z: wait",
        "    check     primary  canary  limit  result",
        "    requests  150      40      ≥ 100  wait    fewer than 100 requests on the canary: waiting",
        "  timeline:",
        "    2026-01-01T00:00:00.000Z  step 1 (5%)  started: release abc",
        "    2026-01-01T00:12:00.000Z  step 2 (50%)  advanced: step 1 passed",
      ].join("\n"),
    );
  });

  it("an aborted rollout says where and why it ended, and which checks failed", () => {
    const failed = { decision: "fail" as const, checks: [{ name: "error_rate" as const, primary: 0, canary: 0.2, limit: 0.005, pass: false, blocking: false }] };
    const text = describeRollout(
      view({
        status: "aborted",
        step: 1,
        percent: 5,
        ended_at: "2026-01-01T00:03:00.000Z",
        end_reason: "a check failed: error_rate",
        last_evaluation: null,
        timeline: [view().timeline[0]!, { at: "2026-01-01T00:03:00.000Z", step: 1, percent: 5, decision: "aborted", reason: "a check failed: error_rate", evaluation: failed }],
      }),
    );
    expect(text).toContain("  aborted at step 1 of 3 (5 → 50 → 100%), 2026-01-01T00:03:00.000Z: a check failed: error_rate\n");
    expect(text).toContain("    2026-01-01T00:03:00.000Z  step 1 (5%)  aborted: a check failed: error_rate; failed error_rate");
    expect(text).not.toContain("latest evaluation");
  });

  it("the history: a line per rollout, latest first", () => {
    const promoted = view({ id: 8, version: 6, primary_version: 5, status: "promoted", step: 3, percent: 100, end_reason: "every step passed" });
    expect(describeRolloutHistory({ name: "churn", rollouts: [promoted, view()] })).toBe(
      [
        "churn: 2 rollouts, latest first",
        "  8  version 6 against 5  promoted at step 3 (100%)  started 2026-01-01T00:00:00.000Z by ci; ended: every step passed",
        "  7  version 5 against 4  active at step 2 (50%)  started 2026-01-01T00:00:00.000Z by ci",
      ].join("\n"),
    );
    expect(describeRolloutHistory({ name: "churn", rollouts: [] })).toBe("churn: no rollout yet");
  });
});

describe("--local: start, status, abort on the local state", () => {
  it("starts at the first step through the canary, refuses a second, shows it, and aborts it with the canary cleared", async () => {
    const state = join(dir, "state");
    const target = (): RegistryTarget => ({ local: true, persistTo: state, by: "rollout-test", env: {} });
    const [primary, candidate] = await cachedFixtureModels("churn-forest", "churn-logistic");
    for (const [fixture, aliases] of [[primary!, ["production"]], [candidate!, []]] as const) {
      const manifest = { ...structuredClone(fixture.manifest), name: NAME };
      await withRegistry(target(), (r) => r.publish({ onnx: new Uint8Array(fixture.onnx), manifestText: JSON.stringify(manifest) }, { name: NAME, aliases: [...aliases] }));
    }

    // Gate evidence that records a failure stops the start before anything is written.
    const failedGate = join(dir, "gate.json");
    await writeFile(failedGate, JSON.stringify({ model: NAME, passed: false, candidate: { run_id: "run-x", onnx_sha256: "ab".repeat(32) } }));
    await expect(startModelRollout(NAME, { version: 2, steps: [5], reason: "x", evidenceFile: failedGate, target: target() })).rejects.toThrow(
      `${failedGate} records a failed gate for run run-x: not rolling out`,
    );
    expect(await rolloutStatus(NAME, { target: target() })).toEqual({ name: NAME, active: false, rollout: null });

    const started = await startModelRollout(NAME, { version: 2, steps: [5, 50, 100], stepMinutes: 5, checks: { auc_margin: 0.05 }, reason: "try v2", target: target() });
    expect(started).toMatchObject({ name: NAME, version: 2, primary_version: 1, status: "active", step: 1, percent: 5, step_minutes: 5, min_requests: 100, started_by: "rollout-test" });
    // Checks not sent keep the worker's defaults.
    expect(started.checks).toMatchObject({ auc_margin: 0.05, max_score_psi: 0.2, max_latency_ratio: 1.5 });
    expect(await trafficPolicy(NAME, { target: target() })).toMatchObject({ canary: { version: 2, percent: 5 } });

    await expect(startModelRollout(NAME, { version: 2, steps: [5, 100], reason: "again", target: target() })).rejects.toThrow(/409 CONFLICT: churn-rollout-cli already has an active rollout/);
    await expect(startModelRollout(NAME, { version: 2, steps: [5], checks: { max_latency_ratio: 0.5 }, reason: "x", target: target() })).rejects.toThrow(/422 VALIDATION_FAILED: checks\.max_latency_ratio/);

    // The CLI as a user runs it, --json: the status is the active rollout.
    const status = await cli([NAME, "status", "--local", "--persist-to", state, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ name: NAME, active: true, rollout: started });

    await expect(abortModelRollout(NAME, started.id + 1, { reason: "x", target: target() })).rejects.toThrow(/404 NOT_FOUND/);
    const aborted = await abortModelRollout(NAME, started.id, { reason: "changed my mind", target: target() });
    expect(aborted).toMatchObject({ id: started.id, status: "aborted", end_reason: "changed my mind" });
    expect(aborted.timeline.map((e) => e.decision)).toEqual(["started", "aborted"]);
    expect(await trafficPolicy(NAME, { target: target() })).toMatchObject({ canary: null });
    expect(await rolloutStatus(NAME, { target: target() })).toEqual({ name: NAME, active: false, rollout: aborted });
    await expect(abortModelRollout(NAME, started.id, { reason: "twice", target: target() })).rejects.toThrow(/409 CONFLICT: rollout \d+ is already aborted/);
  }, 120_000);
});
