/**
 * The only way a version enters the registry: scripts/register-model.ts, `npm start`, the tests, the
 * benchmark and the admin API all call publishVersion(). Each step must pass before the next runs,
 * and nothing is written before the last one, so a refused artifact leaves D1 and R2 as they were:
 *  1. manifest   it parses against the manifest contract (worker/contract/manifest.ts);
 *     aliases    every requested alias name is one requests can ask for;
 *  2. checksum   the ONNX bytes have the manifest's sha256 and size;
 *  3. open       the runtime opens them, through the injected opener (workerd's ORT in the Worker,
 *                the Node build in scripts), behind the one OnnxSession interface;
 *  4. signature  the graph's inputs are exactly the manifest's features, and it has onnx.output;
 *  5. golden     the manifest's golden rows reproduce within GOLDEN_TOLERANCE;
 *     explainer  with an explainer block in the manifest: explainer.json has its sha256 and size,
 *                parses, names the manifest's features in order, and explains every golden row
 *                from the graph's own design output additively (within GOLDEN_TOLERANCE of the
 *                probability) and as the trainer did (each contribution within EXPLANATION_TOLERANCE);
 *  6. store      the version row (pending), the R2 artifacts, then one D1 batch that marks it ready
 *                and applies every alias move. If that fails, the version is marked failed and its
 *                uploaded objects deleted: nothing servable is left.
 */
import { ZodError } from "zod";
import { buildFeeds } from "../contract/feature-feeds";
import { type Manifest, parseManifest } from "../contract/manifest";
import { ApiError, type ErrorCode } from "../errors";
import type { OnnxSession, OnnxSessionOpener } from "../contract/onnx-session";
import { type ArtifactFile, artifactKey } from "./r2-keys";
import { type Db } from "../db/open-db";
import { aliasMoveStatements, assertAssignableAlias, movedFrom } from "./aliases";
import { insertVersion, markFailed, markReadyStatement } from "./version-lifecycle";
import { sha256Hex } from "../contract/sha256";
import { type Explainer, explainerSchema } from "../contract/explainer";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../contract/json-depth";
import { explainRows } from "../explain/explain-rows";
import { explainedProbability } from "../explain/explained-output";

/** How far a replayed golden probability may be from the trainer's (float32 inference vs float64 training). */
export const GOLDEN_TOLERANCE = 1e-5;
/** How far a golden row's contribution (and base value) recomputed at the edge may be from the trainer's: same code, same float32 design. */
export const EXPLANATION_TOLERANCE = 1e-6;

export type PublishStep = "manifest" | "aliases" | "checksum" | "open" | "signature" | "golden" | "explainer" | "store";

const STEP_LABELS: Record<PublishStep, string> = {
  manifest: "manifest",
  aliases: "aliases",
  checksum: "checksum",
  open: "opening the ONNX session",
  signature: "graph signature",
  golden: "golden rows",
  explainer: "explainer",
  store: "store",
};

/** A refused publish: `step` says where, the message why. Nothing servable was left behind. */
export class PublishError extends ApiError {
  constructor(
    readonly step: PublishStep,
    reason: string,
    code: ErrorCode = "VALIDATION_FAILED",
  ) {
    super(code, `publish failed at ${STEP_LABELS[step]}: ${reason}`, { step });
    this.name = "PublishError";
  }
}

export interface PublishTarget {
  db: Db;
  models: R2Bucket;
  openSession: OnnxSessionOpener;
}

export interface PublishInput {
  /** Parsed here: a manifest object or the JSON value read from manifest.json. */
  manifest: unknown;
  onnx: Uint8Array;
  modelCard?: string;
  reference?: string;
  /** explainer.json's text; required exactly when the manifest has an explainer block. */
  explainer?: string;
  createdBy: string;
  source?: string | null;
  /** Aliases to point at the new version, in the same batch that makes it ready. */
  aliases?: readonly string[];
  /** Recorded in alias_history with each move. */
  reason?: string;
}

export interface PublishedVersion {
  name: string;
  version: number;
  sha256: string;
  r2Key: string;
  aliases: { alias: string; from: number | null; to: number }[];
}

export async function publishVersion(target: PublishTarget, input: PublishInput): Promise<PublishedVersion> {
  const manifest = readManifest(input.manifest);
  const aliases = checkAliases(input.aliases ?? []);
  const sha256 = await checkChecksum(manifest, input.onnx);
  const session = await openSession(target.openSession, input.onnx);
  try {
    checkSignature(manifest, session);
    await replayGoldens(manifest, session);
    await checkExplainer(manifest, input.explainer, session);
  } finally {
    await session.release();
  }
  return store(target, input, manifest, sha256, aliases);
}

function readManifest(json: unknown): Manifest {
  try {
    return parseManifest(json);
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const issues = error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new PublishError("manifest", issues.join("; "));
  }
}

function checkAliases(aliases: readonly string[]): string[] {
  const unique = [...new Set(aliases)];
  for (const alias of unique) {
    try {
      assertAssignableAlias(alias);
    } catch (error) {
      throw new PublishError("aliases", (error as Error).message);
    }
  }
  return unique;
}

async function checkChecksum(manifest: Manifest, onnx: Uint8Array): Promise<string> {
  const sha256 = await sha256Hex(onnx);
  if (sha256 !== manifest.onnx.sha256) {
    throw new PublishError("checksum", `model.onnx has sha256 ${sha256}, the manifest says ${manifest.onnx.sha256}`);
  }
  if (onnx.byteLength !== manifest.onnx.size) {
    throw new PublishError("checksum", `model.onnx is ${onnx.byteLength} bytes, the manifest says ${manifest.onnx.size}`);
  }
  return sha256;
}

async function openSession(opener: OnnxSessionOpener, onnx: Uint8Array): Promise<OnnxSession> {
  try {
    return await opener(onnx);
  } catch (error) {
    throw new PublishError("open", `the runtime cannot load model.onnx: ${errorText(error)}`);
  }
}

/** One [N,1] graph input per manifest feature, named after it, nothing else; and the declared output. */
function checkSignature(manifest: Manifest, session: OnnxSession): void {
  const features = manifest.features.map((f) => f.name);
  const twice = features.find((name, i) => features.indexOf(name) !== i);
  if (twice !== undefined) throw new PublishError("signature", `the manifest lists feature ${twice} twice`);
  const inputs = new Set(session.inputNames);
  const missing = features.filter((name) => !inputs.has(name));
  const extra = session.inputNames.filter((name) => !features.includes(name));
  const problems = [
    ...missing.map((name) => `feature ${name} has no graph input`),
    ...extra.map((name) => `graph input ${name} is not a manifest feature`),
  ];
  if (!session.outputNames.includes(manifest.onnx.output)) {
    problems.push(`the graph has no output ${manifest.onnx.output} (it has ${session.outputNames.join(", ")})`);
  }
  if (problems.length) throw new PublishError("signature", problems.join("; "));
}

async function replayGoldens(manifest: Manifest, session: OnnxSession): Promise<void> {
  const rows = manifest.golden.map((g) => g.input);
  if (rows.length === 0) throw new PublishError("golden", "the manifest has no golden rows, so the graph cannot be checked against the trainer");
  let data: Float32Array;
  try {
    data = await session.run(buildFeeds(manifest.features, rows).feeds, rows.length, manifest.onnx.output);
  } catch (error) {
    throw new PublishError("golden", `the graph cannot score the golden rows: ${errorText(error)}`);
  }
  if (data.length !== 2 * rows.length) {
    throw new PublishError("golden", `${manifest.onnx.output} has ${data.length} values for ${rows.length} rows, expected [${rows.length},2]`);
  }
  const failures: string[] = [];
  manifest.golden.forEach((golden, i) => {
    const p = data[2 * i + 1]!;
    const diff = Math.abs(p - golden.probability);
    // NaN on either side is a failure, never a small difference.
    if (!(diff <= GOLDEN_TOLERANCE)) {
      failures.push(`row ${i} gives ${p.toPrecision(6)} not ${golden.probability.toPrecision(6)} (|Δ| ${diff.toPrecision(2)} > ${GOLDEN_TOLERANCE.toExponential()})`);
    }
  });
  if (failures.length) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more of ${rows.length} rows)` : "";
    throw new PublishError("golden", `${failures[0]}${more}`);
  }
}

async function checkExplainer(manifest: Manifest, text: string | undefined, session: OnnxSession): Promise<void> {
  const block = manifest.explainer;
  if (!block) {
    if (text !== undefined) throw new PublishError("explainer", "explainer.json was uploaded, but the manifest has no explainer block to check it against");
    return;
  }
  if (text === undefined) throw new PublishError("explainer", `the manifest names an explainer (sha256 ${block.sha256}), but no explainer.json was uploaded`);
  const bytes = new TextEncoder().encode(text);
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== block.sha256) throw new PublishError("explainer", `explainer.json has sha256 ${sha256}, the manifest says ${block.sha256}`);
  if (bytes.byteLength !== block.size) throw new PublishError("explainer", `explainer.json is ${bytes.byteLength} bytes, the manifest says ${block.size}`);
  const explainer = parseExplainerText(text);
  const names = explainer.features.map((f) => f.name);
  const expected = manifest.features.map((f) => f.name);
  if (names.join("\u0000") !== expected.join("\u0000")) {
    throw new PublishError("explainer", `explainer.json explains features [${names.join(", ")}], the manifest has [${expected.join(", ")}]`);
  }
  if (explainer.space !== block.space) throw new PublishError("explainer", `explainer.json is in ${explainer.space} space, the manifest says ${block.space}`);
  if (!session.outputNames.includes(block.design_output)) {
    throw new PublishError("explainer", `the graph has no output ${block.design_output} for the explainer to read (it has ${session.outputNames.join(", ")})`);
  }
  const rows = manifest.golden.map((g) => g.input);
  let probabilities: Float32Array;
  let design: Float32Array;
  try {
    [probabilities, design] = (await session.runOutputs(buildFeeds(manifest.features, rows).feeds, rows.length, [manifest.onnx.output, block.design_output])) as [Float32Array, Float32Array];
  } catch (error) {
    throw new PublishError("explainer", `the graph cannot give the golden rows' ${block.design_output} output: ${errorText(error)}`);
  }
  if (design.length !== rows.length * explainer.width) {
    throw new PublishError("explainer", `${block.design_output} has ${design.length} values for ${rows.length} rows, explainer.json's width is ${explainer.width}`);
  }
  const explanations = explainRows(explainer, design);
  const failures: string[] = [];
  manifest.golden.forEach((golden, i) => {
    const e = explanations[i]!;
    const p = probabilities[2 * i + 1]!;
    const gap = Math.abs(explainedProbability(explainer.space, e) - p);
    if (!(gap <= GOLDEN_TOLERANCE)) failures.push(`row ${i}'s contributions add up to ${gap.toExponential(2)} away from its probability ${p.toPrecision(6)}`);
    const stored = golden.explanation;
    if (!stored) {
      failures.push(`golden row ${i} has no explanation in the manifest to compare with`);
      return;
    }
    const diffs = [Math.abs(e.base_value - stored.base_value), ...e.contributions.map((c, f) => Math.abs(c - (stored.contributions[f] ?? Number.NaN)))];
    const worst = diffs.reduce((m, d) => (d > m || Number.isNaN(d) ? d : m), 0);
    if (stored.contributions.length !== e.contributions.length || !(worst <= EXPLANATION_TOLERANCE)) {
      failures.push(`row ${i}'s contributions differ from the manifest's by ${Number.isNaN(worst) ? "NaN" : worst.toExponential(2)} (tolerance ${EXPLANATION_TOLERANCE.toExponential()})`);
    }
  });
  if (failures.length) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : "";
    throw new PublishError("explainer", `${failures[0]}${more}`);
  }
}

function parseExplainerText(text: string): Explainer {
  if (nestsDeeperThan(text)) throw new PublishError("explainer", `explainer.json nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PublishError("explainer", `explainer.json is not JSON: ${errorText(error)}`);
  }
  const result = explainerSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new PublishError("explainer", `explainer.json does not parse: ${issues.join("; ")}${result.error.issues.length > 5 ? `; and ${result.error.issues.length - 5} more` : ""}`);
  }
  return result.data;
}

async function store(
  target: PublishTarget,
  input: PublishInput,
  manifest: Manifest,
  sha256: string,
  aliases: string[],
): Promise<PublishedVersion> {
  const { db, models } = target;
  const name = manifest.name;
  let version: number;
  try {
    version = await insertVersion(db, {
      name,
      manifest,
      sha256,
      sizeBytes: input.onnx.byteLength,
      createdBy: input.createdBy,
      source: input.source ?? manifest.source.git_commit,
    });
  } catch (error) {
    throw new PublishError("store", `cannot write the version row: ${errorText(error)}`, "INTERNAL");
  }
  const r2Key = artifactKey(name, version, "model.onnx");
  const d1 = db.$client;
  const moves = aliases.map((alias) => ({ name, alias, version, by: input.createdBy, reason: input.reason ?? "published" }));
  const uploaded: string[] = [];
  let stage = "uploading the artifacts";
  try {
    await uploadArtifacts(models, input, manifest, version, sha256, uploaded);
    stage = "marking it ready";
    const results = await d1.batch([markReadyStatement(d1, name, version, r2Key), ...moves.flatMap((m) => aliasMoveStatements(d1, m))]);
    const moved = moves.map((m, i) => ({ alias: m.alias, from: movedFrom(results[1 + 2 * i]), to: version }));
    return { name, version, sha256, r2Key, aliases: moved };
  } catch (error) {
    const reason = `${stage} failed: ${errorText(error)}`;
    throw new PublishError("store", `version ${version}: ${reason}; ${await abandon(target, name, version, input.createdBy, reason, uploaded)}`, "INTERNAL");
  }
}

/**
 * Leaves nothing servable after a failed store step: the version is marked failed, then its uploads
 * are deleted. Deleting only once it is failed keeps the artifacts of a version whose ready batch
 * did apply although its answer was lost. Says what it did, for the error message.
 */
async function abandon(target: PublishTarget, name: string, version: number, by: string, reason: string, uploaded: string[]): Promise<string> {
  try {
    if (!(await markFailed(target.db, name, version, by, reason))) return "it is no longer pending, so its uploads are kept";
  } catch (error) {
    return `it could not be marked failed (${errorText(error)}) and stays pending, never served`;
  }
  try {
    if (uploaded.length) await target.models.delete(uploaded);
    return "it is marked failed and its uploads deleted";
  } catch (error) {
    return `it is marked failed; its uploads were not deleted (${errorText(error)})`;
  }
}

/** Puts every artifact, recording each key that landed in `uploaded`, and throws the first failure once all have settled. */
async function uploadArtifacts(
  models: R2Bucket,
  input: PublishInput,
  manifest: Manifest,
  version: number,
  sha256: string,
  uploaded: string[],
): Promise<void> {
  const name = manifest.name;
  const json = { httpMetadata: { contentType: "application/json" } };
  const files: [ArtifactFile, string | Uint8Array | undefined, Parameters<R2Bucket["put"]>[2]][] = [
    ["model.onnx", input.onnx, { sha256, customMetadata: { sha256, model: name, version: String(version) } }],
    ["manifest.json", JSON.stringify(manifest, null, 2), json],
    ["model-card.md", input.modelCard, { httpMetadata: { contentType: "text/markdown; charset=utf-8" } }],
    ["reference.json", input.reference, json],
    ["explainer.json", input.explainer, json],
  ];
  // Settled, not Promise.all: a put still in flight after the first failure would land after the cleanup.
  const puts = await Promise.allSettled(
    files.flatMap(([file, body, options]) => {
      if (body === undefined) return [];
      const key = artifactKey(name, version, file);
      return [models.put(key, body, options).then(() => uploaded.push(key))];
    }),
  );
  const failed = puts.find((p) => p.status === "rejected");
  if (failed) throw failed.reason;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
