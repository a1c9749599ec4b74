/** The registry database as drizzle sees it, opened once per request (or cron run, or script) from the D1 binding. */
import { drizzle } from "drizzle-orm/d1";
import { aliases, aliasHistory, models, modelVersions } from "./schema";

export type Db = ReturnType<typeof openDb>;
export type D1Statement = ReturnType<D1Database["prepare"]>;

/** The timestamp format the schema's defaults write (ISO 8601, UTC, milliseconds). */
export const NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export function openDb(d1: D1Database) {
  return drizzle(d1, { schema: { models, modelVersions, aliases, aliasHistory } });
}
