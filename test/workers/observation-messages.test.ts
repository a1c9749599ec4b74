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
    for (const m of packed.messages) {
      expect(m.body.kind).toBe("shadows");
      expect(m.chars).toBe(chars(m.body));
      expect(m.chars).toBeLessThanOrEqual(700);
    }
    const parts = packed.messages.flatMap((m) => (m.body.kind === "shadows" ? m.body.jobs : []));
    for (const part of parts) {
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

describe("packObservations across requests", () => {
  const job = (requestId: string, rows: number): ShadowJob => ({
    kind: "shadow",
    requestId,
    clientRequestId: null,
    name: "m",
    shadowVersion: 2,
    primaryVersion: 1,
    rows: Array.from({ length: rows }, (_, k) => ({ tenure: k })),
    rowIndices: Array.from({ length: rows }, (_, k) => k),
    pairs: [{ row: 0, probability: 0.25, prediction: false }],
    sampledRows: [],
    answeredAt: 1,
  });

  it("puts the records of many requests in one samples message and their shadow jobs in one shadows message", () => {
    const observations = [
      { kind: "samples" as const, records: [record(0), record(1)] },
      job("a", 2),
      { kind: "samples" as const, records: [record(2)] },
      job("b", 1),
    ];
    const packed = packObservations(observations, 10_000);
    expect(packed.oversized).toBe(0);
    expect(packed.messages.map((m) => m.body)).toEqual([
      { kind: "samples", records: [record(0), record(1), record(2)] },
      { kind: "shadows", jobs: [job("a", 2), job("b", 1)] },
    ]);
    for (const m of packed.messages) expect(m.chars).toBe(chars(m.body));
  });

  it("fills each message up to the limit exactly: the largest message that fits is used, the next item starts a new one", () => {
    // Rows 1-5: records of one length (sample keys 0.1-0.5).
    const one = chars({ kind: "samples", records: [record(1)] });
    const two = chars({ kind: "samples", records: [record(1), record(2)] });
    // Exactly two records fit; a third would pass the limit by its length plus a comma.
    const packed = packObservations([{ kind: "samples", records: [1, 2, 3, 4, 5].map((i) => record(i)) }], two);
    expect(packed.messages.map((m) => (m.body.kind === "samples" ? m.body.records.map((r) => r.rowIndex) : []))).toEqual([[1, 2], [3, 4], [5]]);
    expect(packed.messages.map((m) => m.chars)).toEqual([two, two, one]);
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
