/**
 * Drift alerts from the cron in workerd with real D1/R2: a webhook function stands in for Slack
 * (answering 500 twice then 200, always failing, timing out, refusing), with an injected sleep so
 * the backoff is recorded instead of waited.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Manifest, monitoringOf } from "../../worker/contract/manifest";
import { type AlertOptions } from "../../worker/monitoring/alerts";
import { runDriftCron } from "../../worker/monitoring/cron";
import type { AlertDelivery } from "../../worker/monitoring/drift-report-types";
import { createServices } from "../../worker/services";
import { customers, putReference, reportsOf, SCHEDULED, writeWindowSamples } from "./drift-setup";
import { registerFixture } from "./helpers";

const WEBHOOK = "https://hooks.example.test/services/T000/B000/XXXX";

/** A served model whose last window drifts on monthly_charges. */
async function driftingModel(patch?: (m: Manifest) => void) {
  const { manifest } = await registerFixture("trained", { patch });
  await putReference(manifest.name, 1, manifest, customers(manifest, { rows: 1000, seed: "reference" }));
  const rows = customers(manifest, { rows: 300, seed: "drift", edit: (row) => (row.monthly_charges = Number(row.monthly_charges) + 20) });
  await writeWindowSamples(manifest.name, 1, manifest, rows);
  return manifest;
}

/** A webhook that answers with the statuses given, in turn (the last one repeats), and records what it got. */
function webhook(statuses: (number | "network" | "hang")[], headers: Record<string, string> = {}) {
  const calls: { url: string; body: unknown; contentType: string | null }[] = [];
  const fetch: NonNullable<AlertOptions["fetch"]> = async (url, init) => {
    calls.push({ url, body: JSON.parse(String(init.body)), contentType: new Headers(init.headers).get("content-type") });
    const next = statuses[Math.min(calls.length - 1, statuses.length - 1)]!;
    if (next === "network") throw new TypeError("Network connection lost.");
    if (next === "hang")
      return new Promise<Response>((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason)));
    return new Response(next === 200 ? "ok" : "no", { status: next, headers });
  };
  return { fetch, calls };
}

async function run(name: string, hook: ReturnType<typeof webhook>, options: { waits?: number[]; webhookUrl?: string | undefined; timeoutMs?: number } = {}) {
  const waits = options.waits ?? [];
  return runDriftCron(createServices(env, undefined), {
    scheduledTime: SCHEDULED,
    model: name,
    webhookUrl: "webhookUrl" in options ? options.webhookUrl : WEBHOOK,
    alert: { fetch: hook.fetch, sleep: async (ms) => void waits.push(ms), timeoutMs: options.timeoutMs },
  });
}

async function storedAlert(name: string): Promise<AlertDelivery | null> {
  const [row] = await reportsOf(name);
  return row!.alert === null ? null : (JSON.parse(row!.alert) as AlertDelivery);
}

describe("drift alerts", () => {
  it("retries a 500 twice with backoff, records the delivery, and never sends it again for that window", async () => {
    const manifest = await driftingModel();
    const hook = webhook([500, 500, 200]);
    const waits: number[] = [];
    const summary = await run(manifest.name, hook, { waits });
    expect(summary.versions[0]).toMatchObject({ status: "drift", alert: "delivered" });
    expect(hook.calls).toHaveLength(3);
    expect(waits).toEqual([1000, 2000]);
    const alert = (await storedAlert(manifest.name))!;
    expect(alert.outcome).toBe("delivered");
    expect(alert.attempts.map((a) => a.status)).toEqual([500, 500, 200]);

    const message = hook.calls[0]!;
    expect(message.url).toBe(WEBHOOK);
    expect(message.contentType).toBe("application/json");
    const body = message.body as { text: string; blocks: { type: string }[] };
    expect(body.text).toContain(`${manifest.name} version 1`);
    expect(body.text).toContain("2026-01-09T00:00:00.000Z");
    expect(body.text).toContain("monthly_charges");
    expect(body.text).toContain(`/monitoring#${manifest.name}`);
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(JSON.stringify(body.blocks)).toMatch(/\*monthly_charges\*: KS D = 0\.\d{3}, p \(BH\) = [0-9.e-]+, PSI = \d\.\d{3}/);

    // A cron retry, and even a forced recomputation, do not alert again.
    await run(manifest.name, hook);
    await runDriftCron(createServices(env, undefined), { scheduledTime: SCHEDULED, model: manifest.name, webhookUrl: WEBHOOK, force: true, alert: { fetch: hook.fetch } });
    expect(hook.calls).toHaveLength(3);
    expect(await storedAlert(manifest.name)).toEqual(alert);
  });

  it("a webhook that keeps failing is tried three times, recorded as failed, and the report stands; the next run tries again", async () => {
    const manifest = await driftingModel();
    const hook = webhook([503]);
    const summary = await run(manifest.name, hook);
    expect(summary.versions[0]).toMatchObject({ status: "drift", alert: "failed" });
    expect(hook.calls).toHaveLength(3);
    const [row] = await reportsOf(manifest.name);
    expect(row!.status).toBe("drift");
    expect((await storedAlert(manifest.name))!.attempts.map((a) => a.status)).toEqual([503, 503, 503]);
    await run(manifest.name, hook);
    expect(hook.calls).toHaveLength(6);
  });

  it("timeouts and network errors are retried and recorded with their reason", async () => {
    const hanging = await driftingModel();
    const hang = webhook(["hang"]);
    await run(hanging.name, hang, { timeoutMs: 20 });
    const timedOut = (await storedAlert(hanging.name))!;
    expect(timedOut.outcome).toBe("failed");
    expect(timedOut.attempts.map((a) => a.error)).toEqual(["timed out after 20 ms", "timed out after 20 ms", "timed out after 20 ms"]);

    const flaky = await driftingModel();
    const network = webhook(["network", 200]);
    await run(flaky.name, network);
    const recovered = (await storedAlert(flaky.name))!;
    expect(recovered.outcome).toBe("delivered");
    expect(recovered.attempts[0]!.error).toMatch(/Network connection lost/);
    expect(recovered.attempts[1]!.status).toBe(200);
  });

  it("a 4xx other than 429 is final; a 429's Retry-After sets the wait", async () => {
    const refused = await driftingModel();
    const bad = webhook([404]);
    await run(refused.name, bad);
    expect(bad.calls).toHaveLength(1);
    expect((await storedAlert(refused.name))!).toMatchObject({ outcome: "failed", attempts: [{ status: 404 }] });

    const limited = await driftingModel();
    const slow = webhook([429, 200], { "retry-after": "7" });
    const waits: number[] = [];
    await run(limited.name, slow, { waits });
    expect(waits).toEqual([7000]);
    expect((await storedAlert(limited.name))!.outcome).toBe("delivered");
  });

  it("no alert without the secret, or when the version's manifest turns alerts off", async () => {
    const unset = await driftingModel();
    const hook = webhook([200]);
    await run(unset.name, hook, { webhookUrl: undefined });
    const off = await driftingModel((m) => (m.monitoring = { ...monitoringOf(m), alert: false }));
    await run(off.name, hook);
    expect(hook.calls).toHaveLength(0);
    expect(await storedAlert(unset.name)).toBeNull();
    expect(await storedAlert(off.name)).toBeNull();
    expect((await reportsOf(off.name))[0]!.status).toBe("drift");
  });
});
