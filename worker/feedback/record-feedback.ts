/**
 * Joins labels to the predictions they judge and stores them in prediction_labels, all or nothing.
 *
 * A label joins exactly one prediction, keyed by the request id the Worker minted (never the
 * client's x-request-id, which retries and strangers reuse). It finds it one of three ways:
 *  - prediction_token: the signed token returned with the prediction carries model, version,
 *    request id, row, probability and time; verifying it costs no D1 read, and any prediction can be
 *    joined, sampled or not;
 *  - request_id (+ row_index, default 0): the answering version's row in request_samples (never a
 *    shadow's row of the same request, which shares the id), so only sampled rows that retention has
 *    not yet removed can be joined;
 *  - client_request_id + model (+ row_index): only when exactly one sampled row of that model
 *    (answering arm) carries the client's id; otherwise 409 saying how many do.
 * A shadow's rows are found from the primary's (request id, row), so a label is never stored twice.
 *
 * Everything is checked before anything is written; a refusal names every failing item:
 * 401 a token that does not verify, 422 a malformed or contradictory item or a token older than
 * FEEDBACK_MAX_AGE_DAYS, 404 an id with no sampled prediction, 409 a client id that matches
 * several, or a label whose (request id, row) already holds another model's label. Then one
 * statement upserts every label (a resent label replaces the stored one).
 *
 * D1 cost of one call with n labels: one indexed read of request_samples for the labels by request
 * id (the unique (request_id, row_index, arm) index) and one for those by client id (the
 * (model_name, client_request_id) index), one PK read of prediction_labels, one
 * read of model_versions per model version whose labels are class names, and one write statement:
 * 3 rows written per new label (the row, its primary key index and the model/version/time index).
 */
import { parseManifest } from "../contract/manifest";
import { storedJson } from "../db/stored-json";
import { ApiError, type FieldIssue } from "../errors";
import type { LocatedItem } from "./feedback-schema";
import { type TokenSecrets, verifyPredictionToken } from "./prediction-token";

export type JoinedBy = "token" | "sample";

/** A label ready to store: its prediction found, its value resolved to 0/1. */
interface JoinedLabel {
  /** Where the label came from in the body, for error messages. */
  path: string;
  requestId: string;
  rowIndex: number;
  model: string;
  version: number;
  probability: number;
  predictedAt: string;
  observedAt: string | null;
  label: 0 | 1;
  joinedBy: JoinedBy;
}

export interface FeedbackResult {
  received: number;
  inserted: number;
  replaced: number;
  joined_by: Record<JoinedBy, number>;
}

/** What the call cost in D1 (summed meta.rows_read / rows_written of its queries). */
export interface D1Cost {
  rows_read: number;
  rows_written: number;
}

function tally(cost: D1Cost, result: D1Result): void {
  cost.rows_read += result.meta.rows_read ?? 0;
  cost.rows_written += result.meta.rows_written ?? 0;
}

interface SampleHit {
  request_id: string;
  client_request_id: string | null;
  row_index: number;
  model_name: string;
  version: number;
  probability: number;
  created_at: string;
}

/** A prediction found for an item, before its label value is resolved. */
type Found = Omit<JoinedLabel, "label" | "observedAt" | "path">;

const DAY_MS = 86_400_000;

const at = (path: string, field: string) => (path ? `${path}.${field}` : field);

/** Failing items by the refusal they lead to. */
interface Issues {
  unauthorized: FieldIssue[];
  invalid: FieldIssue[];
  unknown: FieldIssue[];
  conflicts: FieldIssue[];
}

export interface FeedbackOptions {
  /** Tokens issued longer ago than this are refused (422). */
  maxAgeDays: number;
  /** ms since epoch; the current time unless a test sets it. */
  now?: number;
}

export async function recordFeedback(
  d1: D1Database,
  secrets: TokenSecrets,
  items: readonly LocatedItem[],
  options: FeedbackOptions,
): Promise<FeedbackResult & { d1: D1Cost }> {
  const cost: D1Cost = { rows_read: 0, rows_written: 0 };
  const issues: Issues = { unauthorized: [], invalid: [], unknown: [], conflicts: [] };
  const found = await joinByToken(secrets, items, issues, options);
  await joinBySample(d1, items, found, issues, cost);
  flagRepeats(items, found, issues);
  const labels = await resolveLabels(d1, items, found, issues.invalid, cost);

  if (issues.unauthorized.length) refuse("UNAUTHORIZED", issues.unauthorized);
  if (issues.invalid.length) refuse("VALIDATION_FAILED", issues.invalid);
  if (issues.unknown.length) refuse("NOT_FOUND", issues.unknown);

  const stored = labels.filter((l): l is JoinedLabel => l !== undefined);
  const existing = await existingLabels(d1, stored, cost);
  for (const l of stored) {
    const prior = existing.get(JSON.stringify([l.requestId, l.rowIndex]));
    if (prior && (prior.model_name !== l.model || prior.version !== l.version)) {
      issues.conflicts.push({
        field: l.path || "body",
        message: `request ${l.requestId} row ${l.rowIndex} already holds a label for ${prior.model_name} v${prior.version}, not ${l.model} v${l.version}: the request id was reused`,
      });
    }
  }
  if (issues.conflicts.length) refuse("CONFLICT", issues.conflicts);

  tally(cost, await upsertLabels(d1, stored));
  const replaced = stored.filter((l) => existing.has(JSON.stringify([l.requestId, l.rowIndex]))).length;
  return {
    received: items.length,
    inserted: stored.length - replaced,
    replaced,
    joined_by: { token: stored.filter((l) => l.joinedBy === "token").length, sample: stored.filter((l) => l.joinedBy === "sample").length },
    d1: cost,
  };
}

/**
 * Items with a prediction_token: verified (no D1), refused past the maximum age, and checked against
 * the request_id and row_index they also give.
 */
async function joinByToken(secrets: TokenSecrets, items: readonly LocatedItem[], issues: Issues, options: FeedbackOptions): Promise<(Found | null | undefined)[]> {
  const now = options.now ?? Date.now();
  const maxAgeMs = options.maxAgeDays * DAY_MS;
  const verdicts = await Promise.all(items.map(({ item }) => (item.prediction_token === undefined ? null : verifyPredictionToken(secrets, item.prediction_token))));
  return items.map(({ item, path }, i) => {
    const verdict = verdicts[i];
    if (!verdict) return null;
    if (!verdict.ok) {
      issues.unauthorized.push({ field: at(path, "prediction_token"), message: verdict.reason });
      return undefined;
    }
    const { claim } = verdict;
    const ageMs = now - claim.issuedAt;
    if (ageMs > maxAgeMs) {
      issues.invalid.push({
        field: at(path, "prediction_token"),
        message: `expired: issued ${new Date(claim.issuedAt).toISOString()}, ${Math.floor(ageMs / DAY_MS)} days ago; tokens are accepted for ${options.maxAgeDays} days (FEEDBACK_MAX_AGE_DAYS)`,
      });
    }
    if (item.request_id !== undefined && item.request_id !== claim.requestId) {
      issues.invalid.push({ field: at(path, "request_id"), message: `does not match the prediction token's request id ${claim.requestId}` });
    }
    if (item.row_index !== undefined && item.row_index !== claim.rowIndex) {
      issues.invalid.push({ field: at(path, "row_index"), message: `does not match the prediction token's row ${claim.rowIndex}` });
    }
    return {
      requestId: claim.requestId,
      rowIndex: claim.rowIndex,
      model: claim.model,
      version: claim.version,
      probability: claim.probability,
      predictedAt: new Date(claim.issuedAt).toISOString(),
      joinedBy: "token",
    };
  });
}

/**
 * Items without a token (null in `found`): their sampled row, looked up in one query for those by
 * request id and one for those by client id. Only the answering arm's rows are candidates: a
 * shadow's row of the same request row is reached through the primary's label. Fills `found` in place.
 */
async function joinBySample(d1: D1Database, items: readonly LocatedItem[], found: (Found | null | undefined)[], issues: Issues, cost: D1Cost): Promise<void> {
  const pending = found.flatMap((f, i) => (f === null ? [i] : []));
  if (!pending.length) return;
  const byRequest = pending.filter((i) => items[i]!.item.client_request_id === undefined);
  const byClient = pending.filter((i) => items[i]!.item.client_request_id !== undefined);
  const requestRows = await readSamples(
    d1,
    `request_id IN (SELECT value FROM json_each(?1))`,
    [...new Set(byRequest.map((i) => items[i]!.item.request_id!))],
    (r) => r.request_id,
    cost,
  );
  const clientRows = await readSamples(
    d1,
    // IS NOT NULL lets SQLite use the partial (model_name, client_request_id) index.
    `client_request_id IS NOT NULL AND (model_name, client_request_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))`,
    uniqueKeys(byClient.map((i) => [items[i]!.item.model!, items[i]!.item.client_request_id!])),
    (r) => JSON.stringify([r.model_name, r.client_request_id]),
    cost,
  );
  for (const i of pending) {
    const { item, path } = items[i]!;
    const rowIndex = item.row_index ?? 0;
    found[i] = undefined;
    const client = item.client_request_id;
    const sampled = client === undefined ? (requestRows.get(item.request_id!) ?? []) : (clientRows.get(JSON.stringify([item.model!, client])) ?? []);
    const hits = sampled.filter((r) => r.row_index === rowIndex);
    const field = at(path, client === undefined ? "request_id" : "client_request_id");
    const named = client === undefined ? `request ${item.request_id}` : `client request id ${client} of model ${item.model}`;
    if (hits.length === 0) {
      const rows = [...new Set(sampled.map((r) => r.row_index))].sort((a, b) => a - b);
      issues.unknown.push({
        field,
        message: rows.length
          ? `${named} was sampled, but not row ${rowIndex} (sampled rows: ${rows.join(", ")}); send that row's prediction_token`
          : `${named} matches no sampled prediction (not sampled, past retention, or unknown); send the prediction_token returned with the prediction`,
      });
    } else if (hits.length > 1) {
      const versions = [...new Set(hits.map((h) => `${h.model_name} v${h.version}`))].join(", ");
      issues.conflicts.push({
        field,
        message:
          client === undefined
            ? `${named} row ${rowIndex} matches ${hits.length} sampled predictions (${versions}); send the prediction_token`
            : `${named} row ${rowIndex} matches ${hits.length} sampled predictions (${versions}): the client's id was reused; send the request_id or prediction_token returned with the prediction`,
      });
    } else {
      const hit = hits[0]!;
      found[i] = {
        requestId: hit.request_id,
        rowIndex,
        model: hit.model_name,
        version: hit.version,
        probability: hit.probability,
        predictedAt: hit.created_at,
        joinedBy: "sample",
      };
    }
  }
}

function uniqueKeys(keys: readonly (readonly string[])[]): (readonly string[])[] {
  return [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()];
}

/** The answering arm's sampled rows matching `where` (bound to the JSON of `keys`), grouped by `keyOf`. */
async function readSamples(
  d1: D1Database,
  where: string,
  keys: readonly unknown[],
  keyOf: (r: SampleHit) => string,
  cost: D1Cost,
): Promise<Map<string, SampleHit[]>> {
  const grouped = new Map<string, SampleHit[]>();
  if (!keys.length) return grouped;
  const read = await d1
    .prepare(
      `SELECT request_id, client_request_id, row_index, model_name, version, probability, created_at FROM request_samples
       WHERE ${where} AND arm <> 'shadow'`,
    )
    .bind(JSON.stringify(keys))
    .all<SampleHit>();
  tally(cost, read);
  for (const r of read.results) grouped.set(keyOf(r), [...(grouped.get(keyOf(r)) ?? []), r]);
  return grouped;
}

/** Two items of one request labelling the same prediction: which one to keep would be a guess. */
function flagRepeats(items: readonly LocatedItem[], found: readonly (Found | null | undefined)[], issues: Issues): void {
  const firstAt = new Map<string, string>();
  items.forEach(({ path }, i) => {
    const f = found[i];
    if (!f) return;
    const key = JSON.stringify([f.requestId, f.rowIndex]);
    const earlier = firstAt.get(key);
    if (earlier !== undefined) issues.invalid.push({ field: path || "body", message: `labels the same prediction as ${earlier || "body"} (request ${f.requestId} row ${f.rowIndex})` });
    else firstAt.set(key, path);
  });
}

const REFUSALS = {
  UNAUTHORIZED: "prediction tokens that do not verify",
  VALIDATION_FAILED: "invalid labels",
  NOT_FOUND: "labels with no prediction to join",
  CONFLICT: "labels that conflict with stored ones",
} as const;

function refuse(code: keyof typeof REFUSALS, issues: FieldIssue[]): never {
  const fields = issues.map((i) => i.field);
  const named = fields.slice(0, 10).join(", ") + (fields.length > 10 ? ", …" : "");
  const lead = issues.length === 1 ? `${issues[0]!.field}: ${issues[0]!.message}` : `${issues.length} ${REFUSALS[code]}: ${named}`;
  throw new ApiError(code, `${lead}; nothing was written`, { issues });
}

/**
 * 0/1 and booleans are the label itself; a string must be one of the version's class names
 * (manifest output.classes, [negative, positive]), which needs the joined version's manifest.
 */
async function resolveLabels(
  d1: D1Database,
  items: readonly LocatedItem[],
  found: readonly (Found | null | undefined)[],
  invalid: FieldIssue[],
  cost: D1Cost,
): Promise<(JoinedLabel | undefined)[]> {
  const needed = new Set<string>();
  items.forEach(({ item }, i) => {
    if (typeof item.label === "string" && found[i]) needed.add(JSON.stringify([found[i]!.model, found[i]!.version]));
  });
  const classes = new Map<string, readonly [string, string] | string>();
  for (const key of needed) {
    const [model, version] = JSON.parse(key) as [string, number];
    const read = await d1.prepare("SELECT manifest FROM model_versions WHERE model_name = ?1 AND version = ?2").bind(model, version).all<{ manifest: string }>();
    tally(cost, read);
    const row = read.results[0];
    const parsed = row ? storedJson(row.manifest) : null;
    if (!parsed?.ok) {
      classes.set(key, `${model} v${version} has no readable manifest to name its classes; send 0 or 1`);
      continue;
    }
    try {
      classes.set(key, parseManifest(parsed.value).output.classes);
    } catch {
      classes.set(key, `${model} v${version} has no readable manifest to name its classes; send 0 or 1`);
    }
  }
  return items.map(({ item, path }, i) => {
    const f = found[i];
    if (!f) return undefined;
    let label: 0 | 1;
    if (typeof item.label === "string") {
      const names = classes.get(JSON.stringify([f.model, f.version]))!;
      const value = item.label.trim();
      if (typeof names === "string") {
        invalid.push({ field: at(path, "label"), message: names });
        return undefined;
      }
      if (value !== names[0] && value !== names[1]) {
        invalid.push({ field: at(path, "label"), message: `${JSON.stringify(item.label)} is not a class of ${f.model} v${f.version}: expected ${JSON.stringify(names[0])} (negative), ${JSON.stringify(names[1])} (positive), 0/1 or true/false` });
        return undefined;
      }
      label = value === names[1] ? 1 : 0;
    } else {
      label = item.label === true || item.label === 1 ? 1 : 0;
    }
    const observedAt = item.observed_at === undefined ? null : new Date(item.observed_at).toISOString();
    return { ...f, path, label, observedAt };
  });
}

async function existingLabels(d1: D1Database, labels: readonly JoinedLabel[], cost: D1Cost) {
  const keys = labels.map((l) => [l.requestId, l.rowIndex]);
  const read = await d1
    .prepare(
      `SELECT request_id, row_index, model_name, version FROM prediction_labels
       WHERE (request_id, row_index) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))`,
    )
    .bind(JSON.stringify(keys))
    .all<{ request_id: string; row_index: number; model_name: string; version: number }>();
  tally(cost, read);
  return new Map(read.results.map((r) => [JSON.stringify([r.request_id, r.row_index]), r]));
}

/**
 * One statement for the whole batch (D1 counts every statement of a batch against the per-call
 * query limit), so it is atomic by itself. The update is guarded on model and version, so a label
 * from another model never overwrites one stored between the conflict check and this write.
 */
async function upsertLabels(d1: D1Database, labels: readonly JoinedLabel[]): Promise<D1Result> {
  const rows = labels.map((l) => [l.requestId, l.rowIndex, l.model, l.version, l.label, l.probability, l.predictedAt, l.observedAt, l.joinedBy]);
  return d1
    .prepare(
      `INSERT INTO prediction_labels (request_id, row_index, model_name, version, label, probability, predicted_at, observed_at, joined_by)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8 FROM json_each(?1) WHERE true
       ON CONFLICT (request_id, row_index) DO UPDATE SET
         label = excluded.label, probability = excluded.probability, predicted_at = excluded.predicted_at,
         observed_at = excluded.observed_at, joined_by = excluded.joined_by,
         received_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE prediction_labels.model_name = excluded.model_name AND prediction_labels.version = excluded.version`,
    )
    .bind(JSON.stringify(rows))
    .run();
}
