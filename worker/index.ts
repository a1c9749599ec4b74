/**
 * The Worker's entry: `fetch` serves the Hono app; `scheduled` runs the rollouts on the minute cron
 * (ROLLOUT_CRON), and otherwise the hourly monitoring cron (drift
 * reports with their ground-truth section, alerts, sample retention), then the housekeeping other
 * features need (shadow pairs past retention, metric minutes folded into totals), building its
 * services with createServices(env, ctx) exactly as requests do.
 */
import { createApp } from "./app";
import { groundTruthSection } from "./feedback/realized";
import { scheduleMetricsFlush } from "./metrics/isolate-metrics";
import { compactMetricsForCron } from "./metrics/metric-store";
import { postWebhook } from "./monitoring/alerts";
import { runDriftCron } from "./monitoring/cron";
import { ROLLOUT_CRON, runRollouts } from "./rollouts/rollout-cron";
import { consumeObservations } from "./observations/consume-observations";
import { sweepStalePublishesForCron } from "./registry/stale-publishes";
import { createServices } from "./services";
import { pruneShadowPairs } from "./traffic/shadow-store";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    const services = createServices(env, ctx);
    const outcome = await consumeObservations(services, batch);
    scheduleMetricsFlush(env.DB, services);
    if (outcome.retried) console.error(JSON.stringify({ level: "error", where: "queue", messages: batch.messages.length, outcome }));
  },
  async scheduled(controller, env, ctx) {
    const services = createServices(env, ctx);
    const now = controller.scheduledTime;
    if (controller.cron === ROLLOUT_CRON) {
      const webhook = env.ALERT_WEBHOOK_URL || undefined;
      const outcomes = await runRollouts(services.db, {
        now,
        defaultAlias: services.settings.defaultAlias,
        ...(webhook ? { alert: (text: string) => postWebhook(webhook, { text }) } : {}),
      });
      if (outcomes.length) console.log(JSON.stringify({ level: "info", where: "rollout cron", scheduled_time: new Date(now).toISOString(), outcomes }));
      return;
    }
    await runDriftCron(services, {
      scheduledTime: now,
      webhookUrl: env.ALERT_WEBHOOK_URL || undefined,
      groundTruth: (report, manifest) =>
        groundTruthSection(services.db, { model: report.model, version: report.version, windowStart: report.window.start, windowEnd: report.window.end, manifest }),
    });
    try {
      const pruned = await pruneShadowPairs(services.db, { retentionDays: services.settings.sampling.retentionDays, now });
      console.log(JSON.stringify({ level: "info", where: "cron", step: "shadow_pairs retention", deleted: pruned }));
    } catch (error) {
      console.error(JSON.stringify({ level: "error", where: "cron", step: "shadow_pairs retention", error: String(error) }));
    }
    // Versions left pending by a publish whose isolate died: failed, their R2 objects deleted.
    await sweepStalePublishesForCron(services, { timeoutMinutes: services.settings.pendingVersionTimeoutMinutes, now });
    await compactMetricsForCron(env.DB, now);
  },
} satisfies ExportedHandler<Env>;
