/**
 * The Worker's entry: `fetch` serves the Hono app. A `scheduled` handler (the monitoring cron) goes
 * beside it, building its services with createServices(env, ctx) exactly as requests do.
 */
import { createApp } from "./app";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
