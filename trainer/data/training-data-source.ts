/**
 * A training CSV fetched from R2 carries a record beside it (`<file>.source.json`): the bucket, the
 * key and the sha256 of the bytes written to disk. `train` copies it into the manifest's
 * data.source; the gate refuses a CSV whose sha256 is not the recorded one.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { type TrainingDataSource, trainingDataSourceSchema } from "../../worker/contract/manifest";
import { UsageError } from "../user-errors";

export function dataSourcePath(csvPath: string): string {
  return `${csvPath}.source.json`;
}

/** The training file a config reads: data.train_path resolved against the config's directory. */
export function trainingDataPath(trainPath: string, baseDir?: string): string {
  return isAbsolute(trainPath) ? trainPath : resolve(baseDir ?? process.cwd(), trainPath);
}

export function objectUrl(source: Pick<TrainingDataSource, "bucket" | "key">): string {
  return `r2://${source.bucket}/${source.key}`;
}

export async function writeDataSource(csvPath: string, source: TrainingDataSource): Promise<void> {
  await writeFile(dataSourcePath(csvPath), `${JSON.stringify(source, null, 2)}\n`);
}

/** The record beside a CSV, or null when the file was not fetched (generated or put there by hand). */
export function readDataSource(csvPath: string): TrainingDataSource | null {
  const path = dataSourcePath(csvPath);
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = trainingDataSourceSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`${path} is not a training data source record (${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")})`);
  return parsed.data;
}

/**
 * The source of the CSV about to be trained on, after checking the file is still the bytes fetched:
 * an edit after the fetch would otherwise be recorded as the R2 object's data.
 */
export function checkedDataSource(csvPath: string, fileSha256: string): TrainingDataSource | null {
  const source = readDataSource(csvPath);
  if (source && source.sha256 !== fileSha256)
    throw new UsageError(
      `${csvPath} has sha256 ${fileSha256.slice(0, 12)}…, not the ${source.sha256.slice(0, 12)}… fetched from ${objectUrl(source)}: it changed after the fetch; fetch it again (npm run data:fetch) or delete ${dataSourcePath(csvPath)} to train on the file as it is`,
    );
  return source;
}
