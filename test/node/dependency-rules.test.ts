/**
 * The layer rules (.dependency-cruiser.cjs) catch what they claim to: a small tree that breaks each
 * rule on purpose is cruised with the repository's own config and every break is reported, while a
 * tree that keeps to the layers passes. `npm run lint:deps` runs the same config on the real code.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../trainer/offline-env";

const run = promisify(execFile);
const DEPCRUISE = join(PROJECT_ROOT, "node_modules", ".bin", "depcruise");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

let dir: string;

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(dir, "tree-"));
  await symlink(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

async function violations(root: string): Promise<Violation[]> {
  const args = ["worker", "trainer", "scripts", "--config", join(PROJECT_ROOT, ".dependency-cruiser.cjs"), "--output-type", "json"];
  // depcruise exits non-zero when it finds errors; its JSON report is on stdout either way.
  const out = await run(DEPCRUISE, args, { cwd: root }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  const report = JSON.parse(out.stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

/** node_modules is a symlink in the probe trees, so resolved package paths are cut back to node_modules/. */
const brief = (v: Violation) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*node_modules\//, "node_modules/")}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "depcruise-rules-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("dependency rules", () => {
  it("a tree that keeps to the layers has no violation", async () => {
    const root = await tree({
      "worker/contract/manifest.ts": "export const M = 1;\n",
      "worker/registry/versions.ts": 'import { M } from "../contract/manifest";\nimport { E } from "../explain/explain-rows";\nexport const V = [M, E];\n',
      "worker/explain/explain-rows.ts": 'import { M } from "../contract/manifest";\nexport const E = M;\n',
      "worker/scoring/predict-rows.ts": 'import { V } from "../registry/versions";\nexport const P = V;\n',
      "worker/monitoring/dashboard-svg.ts": 'import { html } from "hono/html";\nexport const S = html`<svg/>`;\n',
      "worker/api/predict.ts": 'import { Hono } from "hono";\nimport { P } from "../scoring/predict-rows";\nexport const r = new Hono().get("/", (c) => c.text(String(P)));\n',
      "trainer/publish.ts": 'import { V } from "../worker/registry/versions";\nexport const T = V;\n',
      // The local registry client starts, reads and aborts rollouts through the worker's own functions.
      "worker/rollouts/rollouts.ts": 'import { V } from "../registry/versions";\nexport const R = V;\n',
      "trainer/local-rollouts.ts": 'import { R } from "../worker/rollouts/rollouts";\nexport const L = R;\n',
      "scripts/start.ts": 'import { T } from "../trainer/publish";\nimport { r } from "../worker/api/predict";\nexport const s = [T, r];\n',
    });
    expect((await violations(root)).map(brief)).toEqual([]);
  });

  it("reports an upward import, hono below http, a cycle, a folder outside the layers, and the trainer reaching into the worker or scripts", async () => {
    const root = await tree({
      "worker/contract/manifest.ts": 'import { Z } from "../errors";\nexport const M = Z;\n',
      "worker/errors.ts": "export const Z = 0;\n",
      "worker/registry/versions.ts": 'import { r } from "../api/models";\nexport const V = r;\n',
      "worker/api/models.ts": "export const r = 1;\n",
      "worker/scoring/predict-rows.ts": 'import { Hono } from "hono";\nexport const P = new Hono();\n',
      "worker/monitoring/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
      "worker/monitoring/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
      "worker/feedback/record.ts": 'import { split } from "../traffic/split";\nexport const f = split;\n',
      "worker/traffic/split.ts": "export const split = 0;\n",
      "trainer/train.ts": 'import { P } from "../worker/scoring/predict-rows";\nimport { s } from "../scripts/helper";\nexport const t = [P, s];\n',
      // rollouts/ is open to the trainer, the observers it sits on are not.
      "trainer/rollout-report.ts": 'import { F } from "../worker/metrics/families";\nexport const r = F;\n',
      "worker/metrics/families.ts": "export const F = 0;\n",
      "scripts/helper.ts": "export const s = 1;\n",
      "worker/gadgets/gadget.ts": 'import { Z } from "../errors";\nexport const g = Z;\n',
      // Below explain/ in LAYERS, yet out of its reach: explain/ is pure math on the contract.
      "worker/explain/shap.ts": 'import { S } from "../inference/session";\nexport const X = S;\n',
      "worker/inference/session.ts": "export const S = 0;\n",
    });
    const found = (await violations(root)).map(brief).sort();
    expect(found).toEqual(
      [
        "contract-is-self-contained: worker/contract/manifest.ts -> worker/errors.ts",
        "layer-3-imports-upward: worker/registry/versions.ts -> worker/api/models.ts",
        "no-hono-below-http: worker/scoring/predict-rows.ts -> node_modules/hono/dist/types/index.d.ts",
        "no-circular: worker/monitoring/a.ts -> worker/monitoring/b.ts",
        "layer-7-imports-upward: worker/feedback/record.ts -> worker/traffic/split.ts",
        "explain-is-pure: worker/explain/shap.ts -> worker/inference/session.ts",
        "trainer-reaches-only-contract-and-registry: trainer/train.ts -> worker/scoring/predict-rows.ts",
        "trainer-reaches-only-contract-and-registry: trainer/rollout-report.ts -> worker/metrics/families.ts",
        "trainer-not-scripts: trainer/train.ts -> scripts/helper.ts",
        "worker-file-outside-the-layers: worker/gadgets/gadget.ts -> worker/errors.ts",
      ].sort(),
    );
  });
});
