import { ApiError } from "../errors";
import { VERSION_SELECTOR, type VersionRef } from "./registry";

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
