/**
 * What explaining costs, in Node (the same V8 as workerd, so per-row CPU carries over; the edge
 * figure is to be measured by bench:predict once the API asks for explanations).
 *
 *   npx tsx scripts/bench-explain.ts [--rows 100] [--repeat 5]
 *
 * Models: config.yaml trained by the trainer on the default synthetic data (forest 200 x depth 8 by
 * default), and the same data as gradient boosting and logistic regression; then the bench:predict
 * forest (200 random, nearly full trees of depth 8: a worst case, every tree splits everywhere).
 * Every explainer gets 200 background rows from the training split; smaller backgrounds are its
 * prefixes (explainRows' backgroundRows), so one file serves the whole scan. Printed: explainer.json
 * size, compile time and the compiled form's memory (background 100), CPU ms per row explained one
 * at a time and per 100-row batch, and how the cost grows with background size (25/50/100/200) and
 * depth (4/6/8).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { loadConfig, modelConfigSchema, type Config } from "../trainer/config";
import { generateDefaultData } from "../trainer/commands/generate-data";
import { buildExplainer } from "../trainer/explain/build-explainer";
import { createSession, runWithDesign } from "../trainer/onnx/node-runtime";
import { prepareData, rawRows } from "../trainer/pipeline/prepare";
import { EXPLAINER_FILE, runTraining } from "../trainer/pipeline/train-run";
import { Rng } from "../trainer/random";
import { parseExplainer, type Explainer } from "../worker/contract/explainer";
import type { FeatureRow, Manifest } from "../worker/contract/manifest";
import { explainRows, preparedBytes, preparedExplainer } from "../worker/explain/explain-rows";
import { churnFeatures, churnPreprocessing, randomChurnRows } from "../test/fixtures/fixture-models";
import { buildBenchModel } from "./bench/bench-model";
import { median } from "./bench/order-statistics";
import { positiveArg } from "./bench/positive-arg";
import { textTable } from "./bench/text-table";

const BACKGROUNDS = [25, 50, 100, 200];

interface Subject {
  label: string;
  explainer: Explainer;
  /** Design rows to explain, row-major. */
  design: Float32Array;
}

/** CPU ms (user + system) of fn, the median over `repeat` runs after one warm-up. */
function cpuMs(fn: () => void, repeat: number): number {
  fn();
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    runs.push((used.user + used.system) / 1000);
  }
  return median(runs);
}

/** ms per row when each row is explained alone, and ms for the whole batch in one call. */
function measure(subject: Subject, background: number, repeat: number): { perRow: number; batch: number } {
  const { explainer, design } = subject;
  const width = explainer.width;
  const rows = design.length / width;
  const single = cpuMs(() => {
    for (let r = 0; r < rows; r++) explainRows(explainer, design.subarray(r * width, (r + 1) * width), { backgroundRows: background });
  }, repeat);
  const batch = cpuMs(() => explainRows(explainer, design, { backgroundRows: background }), repeat);
  return { perRow: single / rows, batch };
}

async function trainedSubjects(dir: string, rowsToExplain: number, depths: number[]): Promise<{ subjects: Subject[]; defaultSize: number; depthSubjects: Subject[] }> {
  const dataDir = join(dir, "data");
  const { config: base } = loadConfig(resolve("config.yaml"));
  await generateDefaultData({ outDir: dataDir, seed: base.training.random_state });
  const withModel = (model: Record<string, unknown>, backgroundRows: number): Config => ({
    ...base,
    data: { ...base.data, train_path: join(dataDir, "churn_train.csv") },
    model: modelConfigSchema.parse(model),
    explain: { background_rows: backgroundRows },
  });
  const train = async (label: string, config: Config): Promise<{ subject: Subject; size: number }> => {
    const result = await runTraining(config, { configText: JSON.stringify(config), artifactsDir: join(dir, "runs", label.replace(/\W+/g, "-")) });
    const bytes = await readFile(join(result.dir, EXPLAINER_FILE));
    const explainer = parseExplainer(JSON.parse(bytes.toString("utf8")));
    const data = await prepareData(config);
    const rows = rawRows(data.validation.raw, rowsToExplain);
    const session = await createSession(new Uint8Array(await readFile(join(result.dir, "model.onnx"))));
    const { design } = await runWithDesign(session, result.manifest.features, rows);
    await session.release();
    return { subject: { label, explainer, design }, size: bytes.byteLength };
  };
  const model = base.model;
  const forestDefaults = model.type === "random_forest" ? model : { type: "random_forest" as const, n_estimators: 200, max_depth: 8 };
  const forest = await train(`${model.type} (config.yaml), trained`, withModel({ ...model }, 200));
  // The background is drawn by shuffling the training rows, so the shipped config's smaller
  // background is this one's prefix: its file is this one cut to background_rows.
  const n = base.explain.background_rows;
  const shipped = { ...forest.subject.explainer, background: forest.subject.explainer.background.slice(0, n), background_design: forest.subject.explainer.background_design.slice(0, n) };
  const boosting = await train("gradient boosting (defaults), trained", withModel({ type: "gradient_boosting" }, 200));
  const logistic = await train("logistic regression, trained", withModel({ type: "logistic_regression" }, 200));
  const depthSubjects: Subject[] = [];
  for (const depth of depths)
    depthSubjects.push(
      depth === forestDefaults.max_depth && model.type === "random_forest"
        ? forest.subject
        : (await train(`random_forest ${forestDefaults.n_estimators}x${depth}, trained`, withModel({ ...forestDefaults, max_depth: depth }, 200))).subject,
    );
  return { subjects: [forest.subject, boosting.subject, logistic.subject], defaultSize: JSON.stringify(shipped).length + 1, depthSubjects };
}

/** The bench:predict forest (random, nearly full trees) with 200 random background rows. */
async function randomForestSubject(dir: string, depth: number, rowsToExplain: number): Promise<Subject> {
  const { fixture, trees } = await buildBenchModel({ outDir: join(dir, `bench-forest-${depth}`), trees: 200, depth, seed: 42 });
  const manifest: Manifest = fixture.manifest;
  const session = await createSession(fixture.onnx);
  const background = randomChurnRows(new Rng("bench-explain-background"), 200);
  const rows: FeatureRow[] = randomChurnRows(new Rng("bench-explain-rows"), rowsToExplain);
  const bg = await runWithDesign(session, churnFeatures, background);
  const x = await runWithDesign(session, churnFeatures, rows);
  await session.release();
  const explainer = buildExplainer({
    features: manifest.features,
    preprocessing: churnPreprocessing,
    model: { family: "random_forest", trees },
    background,
    backgroundDesign: bg.design,
  });
  return { label: `forest 200x${depth}, random full trees`, explainer, design: x.design };
}

const fmt = (v: number, digits = 3) => v.toFixed(digits);

const command = defineCommand({
  meta: { name: "bench-explain", description: "CPU cost of explaining rows (interventional SHAP) in Node" },
  args: {
    rows: { type: "string", default: "100", description: "Rows explained per measurement" },
    repeat: { type: "string", default: "5", description: "Measured runs per figure (median)" },
  },
  async run({ args }) {
    const rowsToExplain = positiveArg("rows", args.rows);
    const repeat = positiveArg("repeat", args.repeat);
    const dir = await mkdtemp(join(tmpdir(), "bench-explain-"));
    try {
      console.log(`Node ${process.version}; ${rowsToExplain} rows explained per figure; CPU ms (user + system), median of ${repeat} runs\n`);
      const { subjects, defaultSize, depthSubjects } = await trainedSubjects(dir, rowsToExplain, [4, 6, 8]);
      const randomDepths = await Promise.all([4, 6, 8].map((d) => randomForestSubject(dir, d, rowsToExplain)));
      console.log(`explainer.json for config.yaml as shipped: ${(defaultSize / 1024).toFixed(0)} KiB\n`);

      const header = ["model", "explainer.json", "compile ms, bg 100", "compiled MiB", "1 row, bg 100", "100-row batch, bg 100"];
      const main = [...subjects, randomDepths[2]!].map((s) => {
        // Compiled as a fresh isolate would: a background of 100 rows, the size config.yaml ships.
        const shipped = { ...s.explainer, background: s.explainer.background.slice(0, 100), background_design: s.explainer.background_design.slice(0, 100) };
        const t = performance.now();
        preparedExplainer(shipped);
        const compile = performance.now() - t;
        const mib = preparedBytes(shipped) / 2 ** 20;
        const m = measure({ ...s, explainer: shipped }, 100, repeat);
        return [s.label, `${(JSON.stringify(s.explainer).length / 1024).toFixed(0)} KiB`, fmt(compile, 1), fmt(mib, 1), fmt(m.perRow), fmt(m.batch * (100 / (s.design.length / s.explainer.width)), 1)];
      });
      console.log(textTable(header, main, (i) => i > 0));

      console.log("\nms per row by background size (prefixes of one 200-row background)");
      const bgRows = [...subjects, randomDepths[2]!].map((s) => [s.label, ...BACKGROUNDS.map((b) => fmt(measure(s, b, repeat).perRow))]);
      console.log(textTable(["model", ...BACKGROUNDS.map((b) => `bg ${b}`)], bgRows, (i) => i > 0));

      console.log("\nms per row by depth (200 trees, background 100)");
      const depthRows = [...depthSubjects, ...randomDepths].map((s) => [s.label, fmt(measure(s, 100, repeat).perRow)]);
      console.log(textTable(["model", "ms per row"], depthRows, (i) => i > 0));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

await runMain(command);
