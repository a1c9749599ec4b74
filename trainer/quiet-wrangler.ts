/**
 * wrangler.toml declares `[secrets] required`, which wrangler 4 calls an experimental field: every
 * command that reads the config warns "secrets fields are experimental" (the platform proxy twice).
 * WRANGLER_DISABLE_EXPERIMENTAL_WARNING is wrangler's own switch for that notice (since 3.59; any
 * value); it hides experimental-field notices only, so other warnings and errors still print.
 * Set by the commands that run wrangler for the user: `npm start`, `release:local`, `--local`.
 */
export const QUIET_WRANGLER_ENV: Readonly<Record<string, string>> = Object.freeze({ WRANGLER_DISABLE_EXPERIMENTAL_WARNING: "true" });

/** For wrangler run in this process (the platform proxy) and the wrangler commands it spawns. */
export function quietWranglerNotices(): void {
  Object.assign(process.env, QUIET_WRANGLER_ENV);
}
