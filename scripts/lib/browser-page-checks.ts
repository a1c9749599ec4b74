/**
 * What `npm run test:browser` checks on /monitoring in a real Chromium: every chart is there with a
 * non-zero rendered box and visible bars or lines (or none at all on an empty state), the
 * attribution chart with a reference and a current bar for every feature, the rollout panel (its
 * ramp chart, a step strip and a row per check) when a rollout is expected, no console
 * error, page error, failed request, request to another origin or dialog, no script element at all,
 * and user-supplied text shown as text. Returns the problems
 * found (empty when the page passes) and saves a full-page screenshot.
 */
import type { Browser, ConsoleMessage } from "playwright-core";

export interface PageExpectations {
  url: string;
  /** Features the report tested: one distribution chart each. */
  features: string[];
  /** Text that must appear as text (e.g. a hostile alias reason), never as markup. */
  literalText: string[];
  /** Features the attribution chart must draw a reference and a current bar for (none: no attribution chart is required). */
  attributionFeatures?: string[];
  /** An active rollout the page must show: how many checks its latest evaluation holds and how many steps it has. */
  rollout?: { checks: number; steps: number };
  /** false for an empty state: the page must then draw no chart at all. */
  charts?: boolean;
  screenshot: string;
}

export interface PageCheckResult {
  problems: string[];
  charts: { kind: string; feature: string | null; width: number; height: number; marks: number }[];
}

const CHART_KINDS = ["distribution", "score-histogram", "risk-tiers", "p-values", "attribution", "rollout-ramp"] as const;

export async function checkDashboardPage(browser: Browser, expected: PageExpectations): Promise<PageCheckResult> {
  const problems: string[] = [];
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? "?"})`));
  const origin = new URL(expected.url).origin;
  page.on("request", (r) => {
    if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith("data:")) problems.push(`request to another origin: ${r.url()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("dialog", async (d) => {
    problems.push(`a dialog opened (${d.type()}: ${d.message()}): injected script ran`);
    await d.dismiss();
  });
  const response = await page.goto(expected.url, { waitUntil: "load" });
  if (response?.status() !== 200) problems.push(`GET ${expected.url} answered ${response?.status()}`);
  if (!response?.headers()["content-type"]?.startsWith("text/html")) problems.push(`content-type is ${response?.headers()["content-type"]}`);

  const scripts = await page.locator("script").count();
  if (scripts > 0) problems.push(`the page holds ${scripts} script element(s); it must need none`);
  const text = await page.locator("body").innerText();
  for (const literal of expected.literalText) if (!text.includes(literal)) problems.push(`text not shown literally: ${literal}`);

  const charts: PageCheckResult["charts"] = [];
  const wantCharts = expected.charts ?? true;
  for (const kind of CHART_KINDS) {
    const found = page.locator(`svg.chart.${kind}`);
    const count = await found.count();
    const required = kind === "attribution" ? (expected.attributionFeatures?.length ?? 0) > 0 : kind === "rollout-ramp" ? expected.rollout !== undefined : true;
    if (wantCharts && required && count === 0) problems.push(`no ${kind} chart`);
    if (!wantCharts && count > 0) problems.push(`${count} ${kind} chart(s) on a page that should have none`);
    for (let i = 0; i < count; i++) {
      const svg = found.nth(i);
      await svg.scrollIntoViewIfNeeded();
      const box = await svg.boundingBox();
      const feature = await svg.evaluate((el) => el.closest("[data-feature]")?.getAttribute("data-feature") ?? null);
      // Marks: bars with a real height, or drawn line paths and points.
      const marks = await svg.evaluate((el) =>
        Array.from(el.querySelectorAll("rect.bar, g.series path, g.series circle")).filter((m) => {
          const r = (m as SVGGraphicsElement).getBoundingClientRect();
          return r.width > 0 && r.height > 0;
        }).length,
      );
      charts.push({ kind, feature, width: box?.width ?? 0, height: box?.height ?? 0, marks });
      if (!box || box.width <= 0 || box.height <= 0) problems.push(`${kind} chart ${feature ?? i} has an empty box`);
      if (marks === 0) problems.push(`${kind} chart ${feature ?? i} draws no bar, line or point`);
    }
  }
  const drawn = new Set(charts.filter((c) => c.kind === "distribution").map((c) => c.feature));
  for (const feature of expected.features) if (!drawn.has(feature)) problems.push(`no distribution chart for ${feature}`);
  const attributionBars = await page.locator("svg.chart.attribution rect.bar title").allTextContents();
  for (const feature of expected.attributionFeatures ?? [])
    for (const side of ["reference", "current"])
      if (!attributionBars.some((t) => t.startsWith(`${feature}: ${side} `))) problems.push(`the attribution chart has no ${side} bar for ${feature}`);

  if (expected.rollout) {
    const panel = page.locator(".rollout.active");
    const steps = await panel.locator("ol.steps li").count();
    const checks = await panel.locator("table.checks tr[data-check]").count();
    const events = await panel.locator("table.timeline tr[data-decision]").count();
    if (steps !== expected.rollout.steps) problems.push(`the rollout's step strip shows ${steps} steps, not ${expected.rollout.steps}`);
    if (checks !== expected.rollout.checks) problems.push(`the rollout panel shows ${checks} checks, not ${expected.rollout.checks}`);
    if (events === 0) problems.push("the rollout panel's timeline is empty");
  }

  await page.screenshot({ path: expected.screenshot, fullPage: true });
  await page.close();
  return { problems, charts };
}
