/**
 * The Worker's entry: `fetch` serves the Hono app; `scheduled` runs the monitoring cron (drift
 * reports with their ground-truth section, alerts, sample retention), building its services with
 * createServices(env, ctx) exactly as requests do.
 */
import { createApp } from "./app";
import { groundTruthSection } from "./feedback/realized";
import { runDriftCron } from "./monitoring/cron";
import { createServices } from "./services";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    const services = createServices(env, ctx);
    await runDriftCron(services, {
      scheduledTime: controller.scheduledTime,
      webhookUrl: env.ALERT_WEBHOOK_URL || undefined,
      groundTruth: (report, manifest) =>
        groundTruthSection(services.db, { model: report.model, version: report.version, windowStart: report.window.start, windowEnd: report.window.end, manifest }),
    });
  },
} satisfies ExportedHandler<Env>;
