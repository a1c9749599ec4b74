/**
 * Fetches a training CSV from R2 with `wrangler r2 object get` (remote, or the local state that
 * `wrangler dev` and `r2 object put --local` use) and records its sha256 beside it. The hash is
 * computed here, over the bytes written to disk, rather than read from the object: wrangler can set
 * no custom metadata on upload and prints no checksum on download, and an R2 etag is an MD5 (of the
 * parts, for a multipart upload), so only a hash of what was downloaded says what training reads.
 */
import { execFile } from "node:child_process";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { unstable_readConfig } from "wrangler";
import type { TrainingDataSource } from "../../worker/contract/manifest";
import { sha256File } from "./fingerprint";
import { dataSourcePath, objectUrl, writeDataSource } from "./training-data-source";
import { OFFLINE_ENV, PROJECT_ROOT } from "../offline-env";
import { UsageError } from "../user-errors";

const execFileAsync = promisify(execFile);

export type R2Location = { remote: true } | { remote: false; persistTo?: string };

export interface FetchTrainingDataInput {
  key: string;
  /** Default: the registry's bucket (wrangler.toml's MODELS binding). */
  bucket?: string;
  out: string;
  where: R2Location;
}

export interface FetchedTrainingData {
  source: TrainingDataSource;
  bytes: number;
}

export async function fetchTrainingData(input: FetchTrainingDataInput): Promise<FetchedTrainingData> {
  const bucket = input.bucket ?? registryBucket();
  const url = objectUrl({ bucket, key: input.key });
  await mkdir(dirname(input.out), { recursive: true });
  // wrangler creates the --file even when the key does not exist: download beside the target and
  // move it into place only on success, so a failed fetch never leaves a half file to train on.
  const partial = `${input.out}.partial`;
  const where = input.where.remote ? ["--remote"] : ["--local", ...(input.where.persistTo ? ["--persist-to", input.where.persistTo] : [])];
  try {
    await execFileAsync("npx", ["wrangler", "r2", "object", "get", `${bucket}/${input.key}`, ...where, "--file", partial], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...OFFLINE_ENV, CI: "1" },
      maxBuffer: 16 << 20,
    });
  } catch (error) {
    await rm(partial, { force: true });
    const e = error as { stderr?: string; message: string };
    const reason = /ERROR\S*\s*(.+)/.exec(stripAnsi(e.stderr ?? ""))?.[1]?.trim() ?? e.message;
    throw new UsageError(`could not fetch ${url} (${input.where.remote ? "remote" : "local"} R2): ${reason}`);
  }
  // The old record goes first: a crash between the two writes leaves a file with no record, which
  // trains as an unnamed local file, never as the wrong object.
  await rm(dataSourcePath(input.out), { force: true });
  await rename(partial, input.out);
  const source: TrainingDataSource = { store: "r2", bucket, key: input.key, sha256: await sha256File(input.out) };
  await writeDataSource(input.out, source);
  return { source, bytes: (await stat(input.out)).size };
}

function registryBucket(): string {
  const config = unstable_readConfig({ config: `${PROJECT_ROOT}/wrangler.toml` }, { hideWarnings: true });
  const bucket = (config.r2_buckets as { binding: string; bucket_name?: string }[]).find((b) => b.binding === "MODELS")?.bucket_name;
  if (!bucket) throw new UsageError("wrangler.toml declares no MODELS R2 bucket: pass --bucket");
  return bucket;
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
