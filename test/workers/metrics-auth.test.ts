/**
 * GET /metrics with METRICS_TOKEN set, through the whole app and the real rate-limiting binding:
 * failed tokens count against the admin API's ADMIN_AUTH_FAILURES limiter (10 a minute per client,
 * then 429 with retry-after), and a METRICS_TOKEN shorter than the minimum secret length closes
 * /metrics (500 MISCONFIGURED) instead of guarding it with a guessable token or leaving it open.
 */
import { describe, expect, it, vi } from "vitest";
import { MIN_SECRET_LENGTH } from "../../worker/feedback/prediction-token";
import { type Envelope, requestApp } from "./helpers";

const TOKEN = "metrics-auth-token-0123456789";

function scrape(headers: Record<string, string>, vars: Record<string, string> = { METRICS_TOKEN: TOKEN }) {
  return requestApp("/metrics", { headers }, vars);
}

/**
 * The limiter counts in fixed 60 s windows: eleven requests that straddle a boundary would see two
 * windows. Start them with at least `needMs` left in the current one.
 */
async function freshWindow(needMs = 3_000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

describe("/metrics authentication", () => {
  it("failed tokens count against the admin limiter: 10 × 403 from one client, then 429 with retry-after", async () => {
    const client = "198.18.7.11";
    await freshWindow();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await scrape({ authorization: `Bearer wrong-guess-${i}-0123456789`, "cf-connecting-ip": client });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([...Array(10).fill(403), 429]);
    expect(last!.headers.get("retry-after")).toBe("60");
    expect(((await last!.json()) as Envelope).error.code).toBe("RATE_LIMITED");
    // Another client is still judged on its token alone; the right token is never refused.
    expect((await scrape({ authorization: "Bearer wrong-guess-0123456789", "cf-connecting-ip": "198.18.7.12" })).status).toBe(403);
    expect((await scrape({ authorization: `Bearer ${TOKEN}`, "cf-connecting-ip": client })).status).toBe(200);
  });

  it("a missing token counts as a failure too", async () => {
    const client = "198.18.7.13";
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await scrape({ "cf-connecting-ip": client })).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
  });

  it(`a METRICS_TOKEN shorter than ${MIN_SECRET_LENGTH} characters closes /metrics with 500 MISCONFIGURED, even to that token`, async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const short = "x".repeat(MIN_SECRET_LENGTH - 1);
      for (const headers of [{ authorization: `Bearer ${short}` }, {}] as Record<string, string>[]) {
        const res = await scrape({ ...headers, "cf-connecting-ip": "198.18.7.14" }, { METRICS_TOKEN: short });
        expect(res.status).toBe(500);
        const body = (await res.json()) as Envelope;
        expect(body.error.code).toBe("MISCONFIGURED");
        expect(body.error.message).toMatch(new RegExp(`METRICS_TOKEN secret is shorter than ${MIN_SECRET_LENGTH} characters`));
      }
      // At the minimum length it is a working token.
      const exact = "y".repeat(MIN_SECRET_LENGTH);
      expect((await scrape({ authorization: `Bearer ${exact}`, "cf-connecting-ip": "198.18.7.14" }, { METRICS_TOKEN: exact })).status).toBe(200);
    } finally {
      logged.mockRestore();
    }
  });
});
