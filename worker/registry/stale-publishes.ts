/**
 * Publishing writes a `pending` version row, uploads its artifacts, then marks it ready in one
 * batch. An isolate that dies between the row and that batch (evicted, out of CPU, deployed over)
 * runs no cleanup: the version would stay pending for good and its uploads would sit in R2 with
 * nothing pointing at them. The cron sweeps them: a version pending for longer than the timeout
 * (far above any real publish, which takes seconds) is marked failed, saying why, and its artifact
 * keys are deleted.
 *
 * The same order as a failed publish's own cleanup (publish-version.ts): mark failed with a guarded
 * UPDATE first, delete only if that applied. A publish that finishes between the sweep's read and
 * its update finds the version no longer pending, or the sweep finds it ready, and nothing of it is
 * touched. Running twice changes nothing the second time: failed versions are not pending.
 */
import { and, asc, eq, lt } from "drizzle-orm";
import type { Db } from "../db/open-db";
import { modelVersions } from "../db/schema";
import { ARTIFACT_FILES, artifactKey } from "./r2-keys";
import { markFailed } from "./version-lifecycle";

export interface SweepTarget {
  db: Db;
  models: R2Bucket;
}

export interface StaleVersion {
  name: string;
  version: number;
  /** When the version row was written (publishing started). */
  createdAt: string;
}

/** Who the status change is recorded as. */
export const SWEEP_ACTOR = "cron";
/** Versions handled per run; any left over are next run's, so one run's work stays bounded. */
const MAX_PER_RUN = 100;

/**
 * Marks a stale version failed and deletes its artifacts, only if it is still pending. False when it
 * was not (it became ready, or was already failed): its artifacts are kept.
 */
export async function failIfStillPending(target: SweepTarget, stale: StaleVersion, reason: string): Promise<boolean> {
  if (!(await markFailed(target.db, stale.name, stale.version, SWEEP_ACTOR, reason))) return false;
  await target.models.delete(ARTIFACT_FILES.map((file) => artifactKey(stale.name, stale.version, file)));
  return true;
}

/** Marks every version pending for longer than `timeoutMinutes` failed and deletes its artifacts; returns those it failed. */
export async function failStalePublishes(target: SweepTarget, options: { timeoutMinutes: number; now: number }): Promise<StaleVersion[]> {
  const cutoff = new Date(options.now - options.timeoutMinutes * 60_000).toISOString();
  // created_at is written as strftime('%Y-%m-%dT%H:%M:%fZ'), the same shape as toISOString, so text order is time order.
  const stale = await target.db
    .select({ name: modelVersions.modelName, version: modelVersions.version, createdAt: modelVersions.createdAt })
    .from(modelVersions)
    .where(and(eq(modelVersions.status, "pending"), lt(modelVersions.createdAt, cutoff)))
    .orderBy(asc(modelVersions.createdAt))
    .limit(MAX_PER_RUN);
  const failed: StaleVersion[] = [];
  for (const version of stale) {
    const reason = `publishing did not finish: pending since ${version.createdAt}, over PENDING_VERSION_TIMEOUT_MINUTES (${options.timeoutMinutes}); its artifacts were deleted`;
    if (await failIfStillPending(target, version, reason)) failed.push(version);
  }
  return failed;
}

/** The cron step: logs what it did, and never throws, so a failure here does not stop the cron's other steps. */
export async function sweepStalePublishesForCron(target: SweepTarget, options: { timeoutMinutes: number; now: number }): Promise<void> {
  try {
    const failed = await failStalePublishes(target, options);
    console.log(JSON.stringify({ level: "info", where: "cron", step: "stale pending versions", failed: failed.map((v) => `${v.name} v${v.version}`) }));
  } catch (error) {
    console.error(JSON.stringify({ level: "error", where: "cron", step: "stale pending versions", error: String(error) }));
  }
}
