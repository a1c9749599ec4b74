/**
 * Identifies the exact data a model was trained on: sha256 of the file's bytes plus how many rows
 * were read and how they were split. Stored as the manifest's `data` block.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface DataFingerprint {
  sha256: string;
  /** Data rows in the file (header excluded), before dropping duplicates or missing cells. */
  rows: number;
  train_rows: number;
  validation_rows: number;
}

export function sha256Text(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Streams the file, so a large dataset is never held in memory just to hash it. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function dataFingerprint(
  sha256: string,
  counts: { rows: number; trainRows: number; validationRows: number },
): DataFingerprint {
  return { sha256, rows: counts.rows, train_rows: counts.trainRows, validation_rows: counts.validationRows };
}
