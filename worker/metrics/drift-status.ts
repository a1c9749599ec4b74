/**
 * The drift_status gauge: the latest drift report of every version that is not archived, per
 * feature, for the scores, and overall. Reports are read as stored JSON and treated defensively: a
 * report that does not parse still gives its overall status from the status column.
 */
import type { DriftReport, DriftReportStatus, FeatureDriftStatus } from "../monitoring/drift-report-types";

export interface DriftStatusSample {
  model: string;
  version: number;
  feature: string;
  value: number;
}

/** The feature label of the report's overall verdict and of the score distribution's test. */
export const OVERALL_FEATURE = "__overall__";
export const SCORES_FEATURE = "__scores__";

interface LatestReportRow {
  model_name: string;
  version: number;
  status: string;
  report: string;
}

/** 0 ok, 1 drift, -1 cannot tell (insufficient data, no samples, no reference, or a failed run). */
export function driftStatusValue(status: DriftReportStatus | FeatureDriftStatus | string): number {
  if (status === "ok") return 0;
  if (status === "drift") return 1;
  return -1;
}

export async function readDriftStatus(db: D1Database): Promise<DriftStatusSample[]> {
  const { results } = await db
    .prepare(
      `SELECT d.model_name, d.version, d.status, d.report FROM drift_reports d
       JOIN model_versions v ON v.model_name = d.model_name AND v.version = d.version AND v.status != 'archived'
       WHERE d.window_start = (SELECT MAX(window_start) FROM drift_reports l WHERE l.model_name = d.model_name AND l.version = d.version)
       ORDER BY d.model_name, d.version`,
    )
    .all<LatestReportRow>();
  return results.flatMap(samplesOf);
}

function samplesOf(row: LatestReportRow): DriftStatusSample[] {
  const at = (feature: string, status: string) => ({ model: row.model_name, version: row.version, feature, value: driftStatusValue(status) });
  const samples = [at(OVERALL_FEATURE, row.status)];
  const report = parseReport(row.report);
  if (!report) return samples;
  const seen = new Set<string>([OVERALL_FEATURE]);
  for (const feature of Array.isArray(report.features) ? report.features : []) {
    if (typeof feature?.name !== "string" || typeof feature.status !== "string" || seen.has(feature.name)) continue;
    seen.add(feature.name);
    samples.push(at(feature.name, feature.status));
  }
  const scores = report.predictions?.status;
  if (typeof scores === "string" && !seen.has(SCORES_FEATURE)) samples.push(at(SCORES_FEATURE, scores));
  return samples;
}

function parseReport(text: string): Partial<DriftReport> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Partial<DriftReport>) : null;
  } catch {
    return null;
  }
}
