import { ApiError } from "../errors";

/** What a version path segment may be: a positive integer (kept short enough for D1 integers). */
export const VERSION_SELECTOR = /^[1-9][0-9]{0,8}$/;

/** Which version a request means: an explicit number, or an alias (default `production`). */
export type VersionRef = { version: number } | { alias: string };

/** What an alias may be called, in requests, settings and alias moves alike. */
export const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,62}$/i;

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
