/**
 * The monitoring cron: for every version the default alias, canary or shadow serves, one drift report
 * for the last complete window (window_hours from that version's manifest), an alert when it drifts,
 * then sample retention. Versions are isolated: one that fails is logged and recorded as an "error"
 * report while the others still run.
 *
 * Idempotent: a run for the same scheduled time computes the same windows from the same samples and
 * upserts the same rows. A report written once its window had been closed for SETTLE_MS is final
 * (late sample writes have landed), so a retry or a later run in the same window leaves it as it is
 * and skips reading the samples again, unless its alert is still undelivered.
 *
 * A version with an explainer also gets attribution drift (window-attribution.ts): explaining up to
 * ATTRIBUTION_MAX_ROWS of the window's rows, once per report computed, and not even then when the
 * stored report's block came from the same rows. Its failure is recorded in the block, never fails the report.
 */
import { type Manifest, type MonitoringSettings, monitoringOf, parseManifest } from "../contract/manifest";
import { storedJson } from "../db/stored-json";
import type { Services } from "../services";
import { type AlertOptions, sendDriftAlert } from "./alerts";
import { buildDriftReport, lastCompleteWindow, settingsUsed } from "./drift-report";
import {
  loadReference,
  recordAlert,
  labelsReceivedSince,
  reportsWithNewLabels,
  servingVersions,
  storedReport,
  upsertReport,
  windowSamples,
  type ServingVersion,
} from "./drift-report-store";
import type { AlertDelivery, DriftReport, DriftReportStatus } from "./drift-report-types";
import { DRIFT_REPORT_SCHEMA_VERSION } from "./drift-report-types";
import { pruneSamples } from "./sample-store";
import { windowAttribution } from "./window-attribution";

/** How long after a window closes its report is final (sample writes run in waitUntil after the response). */
export const SETTLE_MS = 10 * 60_000;

export { lastCompleteWindow };

export interface DriftCronOptions {
  /** The controller's scheduledTime (ms): the windows are the last complete ones before it. */
  scheduledTime: number;
  /** ALERT_WEBHOOK_URL; unset sends no alerts. */
  webhookUrl?: string;
  alert?: AlertOptions;
  /** Recompute even settled reports (tests compare two computations). */
  force?: boolean;
  /** Only this model (the demo and tests). */
  model?: string;
  /**
   * The report's ground_truth section (labels joined to the window's predictions). Labels arrive
   * late, so it is refreshed on every run, also for a settled report (written only when it changed).
   * A failure leaves the section out and is logged; the drift report stands.
   */
  groundTruth?: (report: Pick<DriftReport, "model" | "version" | "window">, manifest: Manifest) => Promise<unknown>;
}

export interface VersionOutcome {
  model: string;
  version: number;
  windowStart: string | null;
  status: DriftReportStatus;
  /** The stored report was final and left as it was. */
  skipped: boolean;
  alert: AlertDelivery["outcome"] | null;
}

export interface DriftCronSummary {
  versions: VersionOutcome[];
  /** Samples deleted by retention; null when pruning failed (logged). */
  pruned: number | null;
}

function windowOf(time: number, windowHours: number): { start: string; end: string } {
  const { startMs, endMs } = lastCompleteWindow(time, windowHours);
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
}

function log(level: "info" | "error", fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, where: "drift-cron", ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

export async function runDriftCron(services: Pick<Services, "db" | "models" | "settings">, options: DriftCronOptions): Promise<DriftCronSummary> {
  const { db, settings } = services;
  const versions = await servingVersions(db, settings.defaultAlias, options.model);
  const outcomes: VersionOutcome[] = [];
  // One version at a time: each holds a window of samples in memory.
  const labelHorizonMs = settings.sampling.retentionDays * 86_400_000;
  for (const serving of versions) {
    const outcome = await reportVersion(services, serving, options);
    outcomes.push(outcome);
    if (options.groundTruth && outcome.windowStart) await refreshEarlierGroundTruth(services, serving, outcome.windowStart, options.scheduledTime - labelHorizonMs, options);
  }
  let pruned: number | null = null;
  try {
    pruned = await pruneSamples(db, { retentionDays: settings.sampling.retentionDays, now: options.scheduledTime });
  } catch (error) {
    log("error", { step: "prune", error: String(error) });
  }
  log("info", { scheduled_time: new Date(options.scheduledTime).toISOString(), versions: outcomes, pruned });
  return { versions: outcomes, pruned };
}

async function reportVersion(services: Pick<Services, "db" | "models" | "settings">, serving: ServingVersion, options: DriftCronOptions): Promise<VersionOutcome> {
  const { model, version } = serving;
  const outcome: VersionOutcome = { model, version, windowStart: null, status: "error", skipped: false, alert: null };
  // Until the manifest parses, the default window: a version whose manifest is corrupt still gets a report saying so.
  let settings = monitoringOf({});
  let window = windowOf(options.scheduledTime, settings.window_hours);
  try {
    const manifest = parseManifest(JSON.parse(serving.manifest));
    settings = monitoringOf(manifest);
    window = windowOf(options.scheduledTime, settings.window_hours);
    const bounds = lastCompleteWindow(options.scheduledTime, settings.window_hours);
    outcome.windowStart = window.start;
    const stored = await storedReport(services.db, model, version, window.start);
    const storedAlert = stored?.alert ? (JSON.parse(stored.alert) as AlertDelivery) : null;
    const settled = stored !== null && stored.status !== "error" && Date.parse(stored.updatedAt) >= bounds.endMs + SETTLE_MS;
    const alertDue = (status: string) => status === "drift" && settings.alert && options.webhookUrl !== undefined && storedAlert?.outcome !== "delivered";
    if (settled && !options.force && !alertDue(stored.status)) {
      if (options.groundTruth && (await labelsReceivedSince(services.db, model, version, window, stored.updatedAt)))
        await refreshGroundTruth(services, JSON.parse(stored.report) as DriftReport, manifest, options);
      return { ...outcome, status: stored.status as DriftReportStatus, skipped: true, alert: storedAlert?.outcome ?? null };
    }
    const reference = await loadReference(services.models, model, version);
    const samples = reference.ok ? await windowSamples(services.db, model, version, bounds) : [];
    const report = buildDriftReport({ model, version, manifest, settings, window, samples, reference });
    const attribution = await windowAttribution(services, { model, version, manifest }, samples, { stored: storedAttribution(stored?.report), force: options.force });
    if (attribution) report.attribution = attribution;
    const groundTruth = await groundTruthOf(report, manifest, options);
    if (groundTruth !== undefined) report.ground_truth = groundTruth;
    await upsertReport(services.db, report);
    outcome.status = report.status;
    if (alertDue(report.status)) {
      const delivery = await sendDriftAlert(options.webhookUrl!, report, options.alert);
      await recordAlert(services.db, report, delivery);
      outcome.alert = delivery.outcome;
      if (delivery.outcome === "failed") log("error", { step: "alert", model, version, window_start: window.start, attempts: delivery.attempts });
    } else {
      outcome.alert = storedAlert?.outcome ?? null;
    }
    return outcome;
  } catch (error) {
    log("error", { step: "report", model, version, window_start: window.start, error: String(error), stack: (error as Error).stack });
    await recordFailure(services, serving, window, settings, error);
    return { ...outcome, windowStart: window.start };
  }
}

function storedAttribution(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const stored = storedJson(text);
  return stored.ok ? (stored.value as { attribution?: unknown } | null)?.attribution : undefined;
}

async function groundTruthOf(report: DriftReport, manifest: Manifest, options: DriftCronOptions): Promise<unknown> {
  if (!options.groundTruth) return undefined;
  try {
    return await options.groundTruth(report, manifest);
  } catch (error) {
    log("error", { step: "ground-truth", model: report.model, version: report.version, window_start: report.window.start, error: String(error) });
    return undefined;
  }
}

/**
 * Labels for a window keep arriving after it has been reported (a churn label takes a billing
 * period), so the version's earlier reports whose windows ended within the sample retention, and
 * that labels arrived for since they were written, get their ground_truth section refreshed too.
 * Failures are logged; nothing else depends on them.
 */
async function refreshEarlierGroundTruth(services: Pick<Services, "db">, serving: ServingVersion, before: string, sinceMs: number, options: DriftCronOptions): Promise<void> {
  try {
    const manifest = parseManifest(JSON.parse(serving.manifest));
    for (const report of await reportsWithNewLabels(services.db, serving.model, serving.version, { before, since: new Date(sinceMs).toISOString() }))
      await refreshGroundTruth(services, report, manifest, options);
  } catch (error) {
    log("error", { step: "ground-truth-refresh", model: serving.model, version: serving.version, error: String(error) });
  }
}

/** A settled report keeps its drift statistics; only a changed ground_truth section is written. */
async function refreshGroundTruth(services: Pick<Services, "db">, stored: DriftReport, manifest: Manifest, options: DriftCronOptions): Promise<void> {
  const groundTruth = await groundTruthOf(stored, manifest, options);
  if (groundTruth === undefined || JSON.stringify(groundTruth) === JSON.stringify(stored.ground_truth)) return;
  await upsertReport(services.db, { ...stored, ground_truth: groundTruth });
}

/** An "error" report, so the failure shows where reports are read; a failure to write it is only logged. */
async function recordFailure(
  services: Pick<Services, "db">,
  serving: ServingVersion,
  window: { start: string; end: string },
  settings: MonitoringSettings,
  error: unknown,
): Promise<void> {
  const report: DriftReport = {
    schema_version: DRIFT_REPORT_SCHEMA_VERSION,
    model: serving.model,
    version: serving.version,
    window,
    status: "error",
    reason: String(error).slice(0, 500),
    samples: { total: 0, by_arm: {} },
    settings: settingsUsed(settings),
    reference: null,
    drifted_features: [],
    features: [],
    predictions: null,
  };
  try {
    await upsertReport(services.db, report);
  } catch (writeError) {
    log("error", { step: "record-failure", model: serving.model, version: serving.version, error: String(writeError) });
  }
}
