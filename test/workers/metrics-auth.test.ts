/**
 * GET /metrics with METRICS_TOKEN set, through the whole app: failed tokens count against the admin
 * API's ADMIN_AUTH_FAILURES limiter per client (here a CountingLimiter allowing 10, as
 * wrangler.toml's binding does a minute; then 429 with retry-after), and a METRICS_TOKEN shorter than the minimum secret length closes
 * /metrics (500 MISCONFIGURED) instead of guarding it with a guessable token or leaving it open.
 */
import { describe, expect, it, vi } from "vitest";
import { MIN_SECRET_LENGTH } from "../../worker/feedback/prediction-token";
import { CountingLimiter, type Envelope, requestApp } from "./helpers";

const TOKEN = "metrics-auth-token-0123456789";

function scrape(headers: Record<string, string>, vars: Record<string, unknown> = { METRICS_TOKEN: TOKEN }) {
  return requestApp("/metrics", { headers }, vars);
}

describe("/metrics authentication", () => {
  it("failed tokens count against the admin limiter: 10 × 403 from one client, then 429 with retry-after", async () => {
    // Injected, so no real 60 s window can split the eleven requests (the real binding needed a wait).
    const vars = { METRICS_TOKEN: TOKEN, ADMIN_AUTH_FAILURES: new CountingLimiter(10) };
    const client = "198.18.7.11";
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await scrape({ authorization: `Bearer wrong-guess-${i}-0123456789`, "cf-connecting-ip": client }, vars);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([...Array(10).fill(403), 429]);
    expect(last!.headers.get("retry-after")).toBe("60");
    expect(((await last!.json()) as Envelope).error.code).toBe("RATE_LIMITED");
    // Another client is still judged on its token alone; the right token is never refused or counted.
    expect((await scrape({ authorization: "Bearer wrong-guess-0123456789", "cf-connecting-ip": "198.18.7.12" }, vars)).status).toBe(403);
    expect((await scrape({ authorization: `Bearer ${TOKEN}`, "cf-connecting-ip": client }, vars)).status).toBe(200);
    expect(vars.ADMIN_AUTH_FAILURES.counts.get(client)).toBe(11);
  });

  it("a missing token counts as a failure too", async () => {
    const vars = { METRICS_TOKEN: TOKEN, ADMIN_AUTH_FAILURES: new CountingLimiter(10) };
    const client = "198.18.7.13";
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await scrape({ "cf-connecting-ip": client }, vars)).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    expect(vars.ADMIN_AUTH_FAILURES.counts.get(client)).toBe(11);
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
