/**
 * Coalescing per isolate (OBSERVATION_BATCH_MS): requests answered within one window send their
 * sampled rows and shadow jobs in one sendBatch of few messages, through the real queue to real D1;
 * each request's waitUntil still waits for the send that carries its rows. The queue binding is
 * the real one, wrapped to record what each sendBatch carried.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ObservationMessage } from "../../worker/observations/observation-messages";
import type { ObservationQueue } from "../../worker/services";
import { adminJson, observationsSettled, requestApp, twoVersions, VALID_ROW } from "./helpers";

/** The real OBSERVATIONS binding, recording the bodies of every sendBatch call. */
class RecordingQueue implements ObservationQueue {
  readonly calls: ObservationMessage[][] = [];
  async sendBatch(messages: Iterable<{ body: unknown; contentType?: "json" }>): Promise<unknown> {
    const list = [...messages];
    this.calls.push(list.map((m) => m.body as ObservationMessage));
    return env.OBSERVATIONS.sendBatch(list as MessageSendRequest[]);
  }
}

function predict(name: string, vars: Record<string, unknown>, body: unknown = VALID_ROW) {
  return requestApp(`/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, vars);
}

async function storedRequestIds(name: string, arm: string): Promise<string[]> {
  await observationsSettled();
  const { results } = await env.DB.prepare("SELECT request_id FROM request_samples WHERE model_name = ? AND arm = ? ORDER BY request_id").bind(name, arm).all<{ request_id: string }>();
  return results.map((r) => r.request_id);
}

describe("observation batching per isolate", () => {
  it("requests answered within one window send their rows in one sendBatch of one samples message, and every row lands once", async () => {
    const name = await twoVersions();
    const queue = new RecordingQueue();
    const vars = { SAMPLE_RATE: "1", OBSERVATION_BATCH_MS: "200", OBSERVATIONS: queue };
    const answers = await Promise.all(Array.from({ length: 6 }, () => predict(name, vars)));
    const ids = await Promise.all(answers.map(async (res) => ((await res.json()) as { request_id: string }).request_id));
    expect(queue.calls).toHaveLength(1);
    const [messages] = queue.calls;
    expect(messages!.map((m) => m.kind)).toEqual(["samples"]);
    const records = messages![0]!.kind === "samples" ? messages![0]!.records : [];
    expect(records.map((r) => r.requestId).sort()).toEqual([...ids].sort());
    expect(await storedRequestIds(name, "production")).toEqual([...ids].sort());
  });

  it("OBSERVATION_BATCH_MS 0 sends each request's rows on their own", async () => {
    const name = await twoVersions();
    const queue = new RecordingQueue();
    const vars = { SAMPLE_RATE: "1", OBSERVATION_BATCH_MS: "0", OBSERVATIONS: queue };
    await Promise.all(Array.from({ length: 4 }, () => predict(name, vars)));
    expect(queue.calls.map((c) => c.length)).toEqual([1, 1, 1, 1]);
    expect(await storedRequestIds(name, "production")).toHaveLength(4);
  });

  it("shadow jobs of several requests travel in one shadows message beside the samples; every pair and shadow sample is written", async () => {
    const name = await twoVersions();
    const put = await adminJson("PUT", `/admin/models/${name}/traffic`, { shadow: { version: 2, sample_rate: 1 }, reason: "test" });
    expect(put.status).toBe(200);
    const queue = new RecordingQueue();
    const vars = { SAMPLE_RATE: "1", OBSERVATION_BATCH_MS: "200", OBSERVATIONS: queue };
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => predict(name, vars, { instances: [VALID_ROW, { ...VALID_ROW, tenure: i + 1 }] })));
    const ids = (await Promise.all(answers.map(async (res) => ((await res.json()) as { request_id: string }).request_id))).sort();
    expect(queue.calls).toHaveLength(1);
    expect(queue.calls[0]!.map((m) => m.kind).sort()).toEqual(["samples", "shadows"]);
    const shadows = queue.calls[0]!.find((m) => m.kind === "shadows");
    expect(shadows?.kind === "shadows" ? shadows.jobs.map((j) => j.requestId).sort() : []).toEqual(ids);
    const primary = await storedRequestIds(name, "production");
    expect(primary).toEqual(ids.flatMap((id) => [id, id]));
    expect(await storedRequestIds(name, "shadow")).toEqual(primary);
    const { results } = await env.DB.prepare("SELECT request_id, row_index FROM shadow_pairs WHERE model_name = ? ORDER BY request_id, row_index").bind(name).all();
    expect(results).toEqual(ids.flatMap((request_id) => [0, 1].map((row_index) => ({ request_id, row_index }))));
  });

  it("a window whose rows reach a full sendBatch's worth is sent before its timer: a request never waits for it", async () => {
    const name = await twoVersions();
    const queue = new RecordingQueue();
    // 10 s would fail the test by its timeout if the full window waited for the timer.
    const vars = { SAMPLE_RATE: "1", SAMPLE_MAX_ROWS_PER_REQUEST: "1000", MAX_BATCH_ROWS: "1000", MAX_BODY_BYTES: "1048576", OBSERVATION_BATCH_MS: "10000", OBSERVATIONS: queue };
    const started = Date.now();
    const res = await predict(name, vars, { instances: Array.from({ length: 400 }, (_, i) => ({ ...VALID_ROW, tenure: i })) });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    const messages = queue.calls.flat();
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(JSON.stringify(m).length).toBeLessThanOrEqual(60_000);
    expect(messages.reduce((n, m) => n + (m.kind === "samples" ? m.records.length : 0), 0)).toBe(400);
    expect(await storedRequestIds(name, "production")).toHaveLength(400);
  });
});
