/**
 * The deployable bundle's size, from `wrangler deploy --dry-run --outdir` (offline): every file that
 * would be uploaded (the entry module and what module rules attached, not source maps), raw and
 * gzip-compressed, beside wrangler's own "Total Upload" line.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildBundle } from "./process";

export interface BundleFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface BundleSize {
  files: BundleFile[];
  bytes: number;
  gzipBytes: number;
  /** wrangler's own figures (KiB), when its output carried them. */
  wrangler: { totalKiB: number; gzipKiB: number } | null;
  buildMs: number;
}

export async function measureBundle(root: string, outDir: string): Promise<BundleSize> {
  const started = performance.now();
  const output = await buildBundle(root, outDir);
  const buildMs = performance.now() - started;
  const files = readdirSync(outDir)
    .filter((f) => !f.endsWith(".map") && f !== "README.md" && statSync(join(outDir, f)).isFile())
    .map((file) => {
      const bytes = readFileSync(join(outDir, file));
      return { file, bytes: bytes.byteLength, gzipBytes: gzipSync(bytes).byteLength };
    })
    .sort((a, b) => b.bytes - a.bytes);
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  return {
    files,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0),
    wrangler: match ? { totalKiB: Number(match[1]), gzipKiB: Number(match[2]) } : null,
    buildMs,
  };
}
