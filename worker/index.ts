/**
 * The Worker's entry: `fetch` serves the Hono app; `scheduled` runs the monitoring cron (drift
 * reports, alerts, sample retention), building its services with createServices(env, ctx) exactly
 * as requests do.
 */
import { createApp } from "./app";
import { runDriftCron } from "./monitoring/cron";
import { createServices } from "./services";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    const services = createServices(env, ctx);
    await runDriftCron(services, { scheduledTime: controller.scheduledTime, webhookUrl: env.ALERT_WEBHOOK_URL || undefined });
  },
} satisfies ExportedHandler<Env>;
