/**
 * Setup run before each test file (after apply-migrations.ts). The workers project runs its files
 * one after another in a workerd (isolate: false in vitest.config.ts, so the 14 MB ORT module is
 * loaded once per workerd, not once per file), which shares D1 and R2 between those files. Emptying
 * every table and the bucket here gives each file the registry it had in a workerd of its own:
 * empty, ids from 1.
 * Storage stays shared between the tests of one file. Isolate memory (session caches keyed by
 * version and checksum) and the rate-limit binding do carry over between files.
 */
import { env } from "cloudflare:test";

const tables = await env.DB.prepare(
  "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'd1_migrations' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
).all<{ name: string }>();
await env.DB.batch([
  env.DB.prepare("PRAGMA defer_foreign_keys = on"),
  ...tables.results.map((t) => env.DB.prepare(`DELETE FROM "${t.name}"`)),
  env.DB.prepare("DELETE FROM sqlite_sequence WHERE name <> 'd1_migrations'"),
  env.DB.prepare("PRAGMA defer_foreign_keys = off"),
]);

for (let page = await env.MODELS.list(); page.objects.length > 0; page = await env.MODELS.list()) {
  await env.MODELS.delete(page.objects.map((o) => o.key));
}
