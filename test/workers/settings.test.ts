/** Settings come from vars through one zod schema: a bad value names the var instead of falling back. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { parseSettings, SettingsError } from "../../worker/settings";

const base = { DEFAULT_MODEL: "m", DEFAULT_ALIAS: "production", MAX_BATCH_ROWS: "10", MAX_BODY_BYTES: "100", LOAD_FAILURE_BACKOFF_MS: "0", RESOLVE_CACHE_TTL_MS: "0" };

describe("parseSettings", () => {
  it("turns vars into typed settings, with defaults for unset or empty vars", () => {
    expect(parseSettings({ ...base, MAX_CACHED_SESSIONS: "3" })).toEqual({
      defaultModel: "m",
      defaultAlias: "production",
      maxBatchRows: 10,
      maxBodyBytes: 100,
      maxExplainRows: 100,
      backoffMs: 0,
      resolveTtlMs: 0,
      maxCachedSessions: 3,
      maxUploadBytes: 33_554_432,
      metricsFlushMs: 10_000,
      observationBatchMs: 100,
      canaryFallback: true,
      sampling: { rate: 0.1, maxRowsPerRequest: 10, windowCap: 4_000, retentionDays: 30 },
      feedbackMaxAgeDays: 90,
      pendingVersionTimeoutMinutes: 60,
    });
    expect(parseSettings({ ...base, FEEDBACK_MAX_AGE_DAYS: "7" }).feedbackMaxAgeDays).toBe(7);
    expect(() => parseSettings({ ...base, FEEDBACK_MAX_AGE_DAYS: "0" })).toThrow(/FEEDBACK_MAX_AGE_DAYS: must be at least 1/);
    const defaults = parseSettings({ DEFAULT_MODEL: "m", MAX_BATCH_ROWS: "" });
    expect(defaults).toMatchObject({ defaultAlias: "production", maxBatchRows: 1000, maxBodyBytes: 1_048_576, backoffMs: 30_000, resolveTtlMs: 5_000, maxCachedSessions: 8 });
  });

  it("names every bad var and why", () => {
    let error: unknown;
    try {
      parseSettings({ ...base, MAX_BATCH_ROWS: "ten", RESOLVE_CACHE_TTL_MS: "-5", DEFAULT_ALIAS: "no way" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const problems = (error as SettingsError).problems.map((p) => p.variable).sort();
    expect(problems).toEqual(["DEFAULT_ALIAS", "MAX_BATCH_ROWS", "RESOLVE_CACHE_TTL_MS"]);
    expect((error as Error).message).toContain('MAX_BATCH_ROWS: expected a whole number, got "ten"');
    expect(() => parseSettings({ ...base, MAX_BATCH_ROWS: "0" })).toThrow(/MAX_BATCH_ROWS: must be at least 1/);
    expect(() => parseSettings({ ...base, MAX_CACHED_SESSIONS: "0" })).toThrow(/MAX_CACHED_SESSIONS: must be at least 1/);
    expect(() => parseSettings({ ...base, DEFAULT_MODEL: undefined })).toThrow(/DEFAULT_MODEL/);
    expect(() => parseSettings({ ...base, SAMPLE_RATE: "1.5" })).toThrow(/SAMPLE_RATE: expected a fraction between 0 and 1, got "1.5"/);
    expect(() => parseSettings({ ...base, SAMPLE_RATE: "10%" })).toThrow(/SAMPLE_RATE/);
    expect(() => parseSettings({ ...base, SAMPLE_WINDOW_CAP: "0" })).toThrow(/SAMPLE_WINDOW_CAP: must be at least 1/);
    expect(parseSettings({ ...base, SAMPLE_RATE: "0.25", SAMPLE_MAX_ROWS_PER_REQUEST: "3", SAMPLE_WINDOW_CAP: "50", SAMPLE_RETENTION_DAYS: "7" }).sampling).toEqual({
      rate: 0.25,
      maxRowsPerRequest: 3,
      windowCap: 50,
      retentionDays: 7,
    });
    expect(parseSettings({ ...base, METRICS_FLUSH_MS: "250" }).metricsFlushMs).toBe(250);
    expect(() => parseSettings({ ...base, METRICS_FLUSH_MS: "-1" })).toThrow(/METRICS_FLUSH_MS/);
    expect(parseSettings(base).observationBatchMs).toBe(100);
    expect(parseSettings({ ...base, CANARY_FALLBACK: "0" }).canaryFallback).toBe(false);
    expect(parseSettings({ ...base, CANARY_FALLBACK: "true" }).canaryFallback).toBe(true);
    expect(() => parseSettings({ ...base, CANARY_FALLBACK: "yes" })).toThrow(/CANARY_FALLBACK: expected 1, 0, true or false/);
    expect(parseSettings({ ...base, OBSERVATION_BATCH_MS: "0" }).observationBatchMs).toBe(0);
    expect(() => parseSettings({ ...base, OBSERVATION_BATCH_MS: "30000" })).toThrow(/OBSERVATION_BATCH_MS: must be at most 10000/);
    expect(parseSettings({ ...base, SAMPLE_RATE: "1" }).sampling.rate).toBe(1);
    expect(parseSettings({ ...base, SAMPLE_RATE: "0" }).sampling.rate).toBe(0);
  });

  it("answers a request on a misconfigured Worker with 500 MISCONFIGURED naming the var", async () => {
    const res = await createApp().request("/health", {}, { ...env, MAX_BATCH_ROWS: "ten" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe("MISCONFIGURED");
    expect(body.error.message).toContain("MAX_BATCH_ROWS");
    expect(res.headers.get("x-request-id")).toBe(body.error.request_id);
  });
});
