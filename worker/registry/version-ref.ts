import { ApiError } from "../errors";

/** What a version path segment may be: a positive integer (kept short enough for D1 integers). */
export const VERSION_SELECTOR = /^[1-9][0-9]{0,8}$/;

/** Which version a request means: an explicit number, or an alias (default `production`). */
export type VersionRef = { version: number } | { alias: string };

/** What an alias may be called, in requests, settings and alias moves alike. */
export const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,62}$/i;

/**
 * Names no alias may take: samples and metrics record a request through a non-default alias under
 * the alias's name, and these name other arms (the shadow's own scores, requests by version number).
 * An alias called "shadow" would mix its rows with the shadow's and label joins would count them as
 * shadow rows.
 */
export const RESERVED_ALIAS_NAMES: readonly string[] = ["shadow", "version"];

/** `?alias=` (default from settings) or an explicit `/versions/:version` path segment. */
export function versionRef(params: { version?: string; alias?: string }, defaultAlias: string): VersionRef {
  if (params.version !== undefined) {
    if (!VERSION_SELECTOR.test(params.version)) throw new ApiError("NOT_FOUND", `no version ${JSON.stringify(params.version)}: versions are positive integers`);
    return { version: Number(params.version) };
  }
  const alias = params.alias ?? defaultAlias;
  if (!ALIAS_NAME.test(alias)) throw new ApiError("NOT_FOUND", `no alias ${JSON.stringify(alias)}`);
  return { alias };
}
