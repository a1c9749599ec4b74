/**
 * The config a run was trained with, kept in its run directory (artifacts/<run-id>/config.json), as
 * MLflow logs a run's parameters: the config file's text byte for byte (its sha256 is the manifest's
 * source.config_sha256), the file it came from, the directory its relative paths were read from, and
 * the validated config with every default filled in. `npm run gate -- <run>` rebuilds the run's
 * validation split from it, so the gate needs no --config for a run trained with another file.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UsageError } from "../user-errors";
import { type Config, parseConfig } from "../config";
import { sha256Text } from "../data/fingerprint";

export const RUN_CONFIG_FILE = "config.json";

export interface RunConfigRecord {
  /** sha256 of `text`: the manifest's source.config_sha256. */
  sha256: string;
  /** The config file the text was read from (absolute), or null when the caller passed text alone. */
  file: string | null;
  /** The directory a relative data.train_path was read from (the config file's directory). */
  base_dir: string;
  /** The training file the run read: data.train_path resolved against base_dir. */
  data_path: string;
  /** The config file's text, exactly as trained. */
  text: string;
  /** The validated config, defaults filled in: what the run used. For reading; the gate parses `text`. */
  resolved: Config;
}

const recordSchema = z.object({ sha256: z.string(), file: z.string().nullable(), base_dir: z.string(), data_path: z.string(), text: z.string() });

export function runConfigRecord(input: { config: Config; text: string; sha256: string; configPath?: string; baseDir?: string }): RunConfigRecord {
  const baseDir = resolve(input.baseDir ?? process.cwd());
  const path = input.config.data.train_path;
  return {
    sha256: input.sha256,
    file: input.configPath === undefined ? null : resolve(input.configPath),
    base_dir: baseDir,
    data_path: isAbsolute(path) ? path : resolve(baseDir, path),
    text: input.text,
    resolved: input.config,
  };
}

export interface RunConfig {
  config: Config;
  text: string;
  /** <run-dir>/config.json, for messages. */
  path: string;
  baseDir: string;
  dataPath: string;
}

/** The run's own config, or null for a run directory written before runs kept one. */
export function readRunConfig(runDir: string): RunConfig | null {
  const path = join(runDir, RUN_CONFIG_FILE);
  if (!existsSync(path)) return null;
  const parsed = recordSchema.safeParse(safeJson(path));
  if (!parsed.success) throw new UsageError(`${path} is not a run's config record (${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")})`);
  const record = parsed.data;
  if (sha256Text(record.text) !== record.sha256)
    throw new UsageError(`${path} was edited after training: its text no longer has the sha256 recorded beside it; pass --config <the config the run was trained with>`);
  return { config: parseConfig(parseYaml(record.text), path), text: record.text, path, baseDir: record.base_dir, dataPath: record.data_path };
}

function safeJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
}
