/**
 * Cutting a request's observations to the queue's limits (128 KB per message, 100 messages and
 * 256 KB per sendBatch), with a small character limit so the cases stay readable: every row that
 * fits is kept exactly once, in order, with its pair and sample flags; a row too large for any
 * message is counted and dropped.
 */
import { describe, expect, it } from "vitest";
import type { SampleRecord } from "../../worker/monitoring/sample-store";
import { type ObservationMessage, packObservations, sendBatches, type SizedMessage } from "../../worker/observations/observation-messages";
import type { ShadowJob } from "../../worker/traffic/shadow";

function record(i: number, features = "{}"): SampleRecord {
  return {
    modelName: "m",
    version: 1,
    arm: "production",
    requestId: "r",
    clientRequestId: null,
    rowIndex: i,
    features,
    probability: 0.5,
    prediction: true,
    riskTier: "high",
    latencyMs: 1,
    createdAt: "2026-12-06T00:00:00.000Z",
    window: "2026-12-06T00:00:00.000Z",
    sampleKey: i / 10,
  };
}

const chars = (m: ObservationMessage) => JSON.stringify(m).length;

describe("packObservations", () => {
  it("leaves a message under the limit whole, with its size measured", () => {
    const message: ObservationMessage = { kind: "samples", records: [record(0), record(1)] };
    expect(packObservations([message], 10_000)).toEqual({ messages: [{ body: message, chars: chars(message) }], oversized: 0 });
  });

  it("splits samples over the limit into messages under it, every record once and in order; a record too large alone is dropped and counted", () => {
    const one = chars({ kind: "samples", records: [record(0)] });
    const limit = one * 3;
    const records = [...Array.from({ length: 7 }, (_, i) => record(i)), record(7, JSON.stringify({ note: "x".repeat(limit) })), record(8)];
    const packed = packObservations([{ kind: "samples", records }], limit);
    expect(packed.oversized).toBe(1);
    for (const m of packed.messages) {
      expect(m.chars).toBe(chars(m.body));
      expect(m.chars).toBeLessThanOrEqual(limit);
    }
    const kept = packed.messages.flatMap((m) => (m.body.kind === "samples" ? m.body.records.map((r) => r.rowIndex) : []));
    expect(kept).toEqual([0, 1, 2, 3, 4, 5, 6, 8]);
    expect(packed.messages.length).toBeGreaterThan(1);
  });

  it("splits a shadow job by row: each part carries its rows with their pairs and sample flags", () => {
    const rows = Array.from({ length: 6 }, (_, k) => ({ tenure: k, note: "y".repeat(200) }));
    const job: ShadowJob = {
      kind: "shadow",
      requestId: "r",
      clientRequestId: "c",
      name: "m",
      shadowVersion: 2,
      primaryVersion: 1,
      rows,
      rowIndices: [0, 2, 4, 6, 8, 10],
      pairs: [0, 4, 8].map((row) => ({ row, probability: row / 10, prediction: row > 4 })),
      sampledRows: [2, 4, 10],
      answeredAt: 1,
    };
    const packed = packObservations([job], 700);
    expect(packed.oversized).toBe(0);
    expect(packed.messages.length).toBeGreaterThan(1);
    const parts = packed.messages.map((m) => m.body as ShadowJob);
    for (const [i, part] of parts.entries()) {
      expect(packed.messages[i]!.chars).toBeLessThanOrEqual(700);
      expect({ ...part, rows: [], rowIndices: [], pairs: [], sampledRows: [] }).toEqual({ ...job, rows: [], rowIndices: [], pairs: [], sampledRows: [] });
      expect(part.rows).toEqual(part.rowIndices.map((row) => rows[job.rowIndices.indexOf(row)]));
      for (const pair of part.pairs) expect(part.rowIndices).toContain(pair.row);
      for (const row of part.sampledRows) expect(part.rowIndices).toContain(row);
    }
    expect(parts.flatMap((p) => p.rowIndices)).toEqual(job.rowIndices);
    expect(parts.flatMap((p) => p.pairs)).toEqual(job.pairs);
    expect(parts.flatMap((p) => p.sampledRows)).toEqual(job.sampledRows);
  });
});

describe("sendBatches", () => {
  const message = (i: number, size: number): SizedMessage => ({ body: { kind: "samples", records: [record(i)] }, chars: size });

  it("starts a new call at 100 messages or past 120,000 characters, never splitting a message", () => {
    const many = Array.from({ length: 250 }, (_, i) => message(i, 10));
    expect(sendBatches(many).map((b) => b.length)).toEqual([100, 100, 50]);
    const large = [message(0, 50_000), message(1, 50_000), message(2, 50_000), message(3, 10)];
    expect(sendBatches(large).map((b) => b.map((m) => (m.kind === "samples" ? m.records[0]!.rowIndex : -1)))).toEqual([[0, 1], [2, 3]]);
    expect(sendBatches([])).toEqual([]);
  });
});
