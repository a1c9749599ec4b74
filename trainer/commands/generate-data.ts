/**
 * `generate-data`: writes the synthetic churn training file plus two production-like samples for
 * the monitoring work: one from the same distribution (different seed) and one drifted.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineCommand } from "citty";
import { loadConfig } from "../config";
import { generateChurnRows, toCsv, type DriftSpec } from "../data/synthetic";
import { UsageError } from "../user-errors";

export const DEFAULT_ROWS = 10_000;

/** The drift the monitoring demo should detect: pricier plans and more month-to-month customers. */
export const DEFAULT_DRIFT: DriftSpec = {
  monthly_charges: { shift: 15 },
  contract_type: { reweight: { "Month-to-month": 3 } },
};

export interface GenerateDataOptions {
  outDir: string;
  rows?: number;
  seed: number;
}

export interface GeneratedFile {
  path: string;
  rows: number;
}

/** Training file with messy cells; the two samples are clean, like validated API requests. */
export async function generateDefaultData({ outDir, rows = DEFAULT_ROWS, seed }: GenerateDataOptions): Promise<GeneratedFile[]> {
  const sampleRows = Math.max(1, Math.round(rows / 5));
  const files = [
    { name: "churn_train.csv", rows: generateChurnRows({ rows, seed, messy: true }) },
    { name: "churn_current.csv", rows: generateChurnRows({ rows: sampleRows, seed: `${seed}/current` }) },
    { name: "churn_drifted.csv", rows: generateChurnRows({ rows: sampleRows, seed: `${seed}/drifted`, drift: DEFAULT_DRIFT }) },
  ];
  await mkdir(outDir, { recursive: true });
  const written: GeneratedFile[] = [];
  for (const file of files) {
    const path = join(outDir, file.name);
    await writeFile(path, toCsv(file.rows));
    written.push({ path, rows: file.rows.length });
  }
  return written;
}

export const generateDataCommand = defineCommand({
  meta: { name: "generate-data", description: "Write a synthetic churn dataset and drifted/current samples" },
  args: {
    rows: { type: "string", description: "Training rows", default: String(DEFAULT_ROWS) },
    "out-dir": { type: "string", description: "Output directory", default: "data" },
    seed: { type: "string", description: "Seed (default: training.random_state from the config)" },
    config: { type: "string", description: "Config file", default: "config.yaml" },
  },
  async run({ args }) {
    const rows = parseWholeNumber("--rows", args.rows, 1);
    const seed =
      args.seed !== undefined ? parseWholeNumber("--seed", args.seed, 0) : seedFromConfig(args.config);
    const files = await generateDefaultData({ outDir: args["out-dir"], rows, seed });
    for (const file of files) console.log(`wrote ${file.path} (${file.rows} rows)`);
  },
});

export default generateDataCommand;

function seedFromConfig(path: string): number {
  if (!existsSync(path)) throw new UsageError(`config ${path} not found; pass --config or --seed`);
  return loadConfig(path).config.training.random_state;
}

function parseWholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}
