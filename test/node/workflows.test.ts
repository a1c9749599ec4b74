/**
 * The GitHub workflows, checked offline: each passes @action-validator/cli (the schema GitHub
 * applies), a broken one is rejected by the same call, every `npm run <script>` they use exists,
 * secrets appear only as `${{ secrets.NAME }}`, the release chain runs in the documented order
 * with production behind its environment, and it trains on the R2 object TRAINING_DATA_KEY names
 * (the synthetic generator only without one, saying so).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../trainer/offline-env";
import { runCommand } from "../helpers/run-command";

const WORKFLOWS = join(PROJECT_ROOT, ".github", "workflows");
const VALIDATOR = join(PROJECT_ROOT, "node_modules", ".bin", "action-validator");

async function validate(file: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runCommand(VALIDATOR, [file], { cwd: PROJECT_ROOT });
  return { code, output: stdout + stderr };
}

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  uses?: string;
  environment?: string | { name: string };
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

let files: string[];
const texts = new Map<string, string>();
const workflows = new Map<string, Workflow>();

beforeAll(async () => {
  files = (await readdir(WORKFLOWS)).filter((f) => /\.ya?ml$/.test(f)).sort();
  for (const f of files) {
    const text = await readFile(join(WORKFLOWS, f), "utf8");
    texts.set(f, text);
    workflows.set(f, parse(text) as Workflow);
  }
});

describe("workflow files", () => {
  it("are the pull-request and release workflows", () => {
    expect(files).toEqual(["pr.yml", "release.yml"]);
  });

  it("each passes action-validator", async () => {
    for (const f of files) {
      const result = await validate(join(WORKFLOWS, f));
      expect(result.code, `${f}: ${result.output}`).toBe(0);
    }
  });

  describe("action-validator rejects a broken workflow", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "workflows-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("a step with both uses and run, and a job without runs-on", async () => {
      const broken = join(dir, "broken.yml");
      await writeFile(broken, "on: push\njobs:\n  build:\n    steps:\n      - uses: actions/checkout@v4\n        run: echo both\n");
      const result = await validate(broken);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/"path": "\/jobs\/build/);
    });

    it("the release workflow with its first job's needs misspelled as a key", async () => {
      const text = texts.get("release.yml")!.replace("  train:\n    needs: test\n", "  train:\n    need: test\n");
      expect(text).not.toBe(texts.get("release.yml"));
      const broken = join(dir, "release.yml");
      await writeFile(broken, text);
      const result = await validate(broken);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/Additional property 'need' is not allowed/);
    });
  });

  it("every `npm run <script>` (and `npm test`) they use exists in package.json", async () => {
    const scripts = (JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const used = new Set<string>();
    for (const wf of workflows.values())
      for (const job of Object.values(wf.jobs))
        for (const step of job.steps ?? []) for (const m of (step.run ?? "").matchAll(/npm (?:run (?:--silent )?([\w:.-]+)|(test)\b)/g)) used.add((m[1] ?? m[2])!);
    expect([...used].sort()).toEqual(["data", "data:fetch", "gate", "promote", "publish", "rollout", "smoke", "test:all", "test:browser", "train", "typecheck"]);
    expect([...used].filter((s) => !(s in scripts))).toEqual([]);
  });

  it("the pull-request checks run .ci/run's npm commands, in its order: every test project and the browser check", async () => {
    const npmCommands = (lines: string[]) => lines.flatMap((line) => /^\s*(npm (?:ci|test|run [\w:.-]+))(?:\s|$)/.exec(line)?.[1] ?? []);
    const ciRun = (await readFile(join(PROJECT_ROOT, ".ci", "run"), "utf8")).split("\n").filter((line) => !line.trimStart().startsWith("#"));
    const pr = (workflows.get("pr.yml")!.jobs.test!.steps ?? []).flatMap((step) => (step.run ?? "").split("\n"));
    expect(npmCommands(ciRun)).toEqual(["npm ci", "npm run typecheck", "npm run test:all", "npm run test:browser"]);
    expect(npmCommands(pr)).toEqual(npmCommands(ciRun));
    // test:all is every project: nothing the default `npm test` leaves out is left out of CI.
    const scripts = (JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["test:all"]).toMatch(/(^|&& )vitest run$/);
  });

  it("set the offline wrangler environment exactly as .env does", () => {
    for (const [f, wf] of workflows) {
      const env = Object.fromEntries(Object.entries(wf.env ?? {}).filter(([k]) => k in OFFLINE_ENV));
      expect(env, f).toEqual(OFFLINE_ENV);
    }
  });

  it("refer to secrets by name only", () => {
    const sensitive = /TOKEN|ACCOUNT_ID/;
    for (const [f, wf] of workflows)
      for (const [name, job] of Object.entries(wf.jobs))
        for (const env of [job.env, ...(job.steps ?? []).map((s) => s.env)])
          for (const [key, value] of Object.entries(env ?? {}))
            if (sensitive.test(key)) expect(value, `${f} ${name} env.${key}`).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    for (const [f, text] of texts) expect(text, f).not.toMatch(/--token|Bearer /);
  });
});

describe("release.yml", () => {
  const release = () => workflows.get("release.yml")!;
  const needs = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);

  it("runs on pushes to main and by hand, the pull-request checks first", () => {
    expect(Object.keys(release().on)).toEqual(["push", "workflow_dispatch"]);
    expect(release().on.push).toEqual({ branches: ["main"] });
    expect(release().jobs.test!.uses).toBe("./.github/workflows/pr.yml");
    expect(workflows.get("pr.yml")!.on).toHaveProperty("workflow_call");
  });

  it("chains test, train, gate, deploy staging, publish, smoke, promote production, smoke (or a rollout after the staging smoke)", () => {
    const order = ["test", "train", "gate", "deploy-staging", "publish", "smoke-staging", "promote-production", "smoke-production"];
    expect(Object.keys(release().jobs)).toEqual([...order, "rollout-production"]);
    // Each job waits for the one before it (and may need earlier ones for their outputs).
    order.slice(1).forEach((job, i) => expect(needs(release().jobs[job]!), job).toContain(order[i]));
    expect(needs(release().jobs["rollout-production"]!)).toEqual(needs(release().jobs["promote-production"]!));
  });

  it("a dispatch input chooses how the release ends: exactly one of promote and rollout runs, a push promotes", () => {
    const dispatch = release().on.workflow_dispatch as { inputs: Record<string, { type: string; options?: string[]; default?: string }> };
    expect(dispatch.inputs.finish).toMatchObject({ type: "choice", options: ["promote", "rollout"], default: "promote" });
    expect(Object.keys(dispatch.inputs)).toEqual(["finish", "rollout_steps", "step_minutes"]);
    // The two conditions, evaluated as GitHub does for these simple forms (a push has no inputs).
    const runs = (job: string, inputs: Record<string, string>) => {
      const m = /^\$\{\{ inputs\.(\w+) (==|!=) '(\w+)' \}\}$/.exec(release().jobs[job]!.if ?? "");
      expect(m, `${job}.if`).not.toBeNull();
      return (inputs[m![1]!] === m![3]) === (m![2] === "==");
    };
    const cases: Record<string, string>[] = [{}, { finish: "promote" }, { finish: "rollout" }];
    for (const inputs of cases) {
      const ran = ["promote-production", "rollout-production"].filter((job) => runs(job, inputs));
      expect(ran, JSON.stringify(inputs)).toEqual([inputs.finish === "rollout" ? "rollout-production" : "promote-production"]);
    }
    // smoke-production expects the published version at production: it runs only after a promote.
    expect(needs(release().jobs["smoke-production"]!)).toContain("promote-production");
  });

  it("rolls out only in the production environment, with the published version and the gate's evidence; inputs reach the shell through env", () => {
    const rollout = release().jobs["rollout-production"]!;
    expect(rollout.environment).toBe("production");
    expect(rollout.env).toMatchObject({ ADMIN_TOKEN: "${{ secrets.ADMIN_TOKEN }}", ROLLOUT_STEPS: "${{ inputs.rollout_steps }}", STEP_MINUTES: "${{ inputs.step_minutes }}" });
    const run = rollout.steps!.map((s) => s.run ?? "").join("\n");
    expect(run).toMatch(/npm run rollout -- "\$MODEL_NAME" --version "\$\{\{ needs\.publish\.outputs\.version \}\}" .*--evidence-file "\$RUN_DIR\/gate\.json" --registry "\$\{\{ vars\.PRODUCTION_URL \}\}"/);
    expect(run).toMatch(/npm run rollout -- "\$MODEL_NAME" status --registry/);
    expect(rollout.steps!.some((s) => s.uses === "actions/download-artifact@v4" && s.with?.name === "gate")).toBe(true);
    for (const [name, job] of Object.entries(release().jobs)) for (const step of job.steps ?? []) expect(step.run ?? "", name).not.toContain("${{ inputs.");
  });

  it("train and gate take the training CSV from the R2 object named by TRAINING_DATA_KEY, and say so when they fall back to synthetic data", () => {
    for (const name of ["train", "gate"]) {
      const steps = release().jobs[name]!.steps ?? [];
      const data = steps.find((s) => s.name === "training data");
      expect(data, name).toBeDefined();
      expect(data!.env).toMatchObject({ TRAINING_DATA_KEY: "${{ vars.TRAINING_DATA_KEY }}", CLOUDFLARE_API_TOKEN: "${{ secrets.CLOUDFLARE_API_TOKEN }}" });
      const script = data!.run!;
      expect(script).toMatch(/if \[ -n "\$TRAINING_DATA_KEY" \]; then\n\s*npm run data:fetch -- --key "\$TRAINING_DATA_KEY" .*--remote\n\s*else\n/);
      // Only without a key: the generator runs in the else branch, after a log line saying so.
      const fallback = script.slice(script.indexOf("else\n"));
      expect(fallback).toMatch(/echo "::warning title=Synthetic training data::No TRAINING_DATA_KEY repository variable: this release trains on the synthetic generator's data/);
      expect(fallback.indexOf("echo ")).toBeLessThan(fallback.indexOf("npm run data\n"));
      expect(script.match(/npm run data\n/g), name).toHaveLength(1);
      // Nothing else in the job generates or fetches data, and the data comes before train/gate.
      expect(steps.filter((s) => /npm run data\b/.test(s.run ?? "")), name).toEqual([data]);
      const consumer = steps.findIndex((s) => new RegExp(`npm run ${name} `).test(`${s.run ?? ""} `));
      expect(steps.indexOf(data!), name).toBeLessThan(consumer);
    }
  });

  it("promotes only in the production environment, with the published version and the gate's evidence", () => {
    const promote = release().jobs["promote-production"]!;
    expect(promote.environment).toBe("production");
    const run = promote.steps!.map((s) => s.run ?? "").join("\n");
    expect(run).toMatch(/npm run promote -- "\$MODEL_NAME" "\$\{\{ needs\.publish\.outputs\.version \}\}" .*--evidence-file "\$RUN_DIR\/gate\.json" --registry "\$\{\{ vars\.PRODUCTION_URL \}\}"/);
    expect(release().jobs.publish!.outputs).toEqual({ version: "${{ steps.publish.outputs.version }}" });
  });
});
