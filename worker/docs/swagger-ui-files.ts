/**
 * Which swagger-ui-dist files the Worker serves, and where. Kept apart from their contents
 * (swagger-ui-assets.ts) so the OpenAPI document can name them without bundling 1.9 MB.
 */
export const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui.css"] as const;
export type SwaggerUiFile = (typeof SWAGGER_UI_FILES)[number];

/** Handed to @hono/swagger-ui as its `baseUrl` (in place of its CDN); it appends `/swagger-ui-dist/<file>`. */
export const SWAGGER_UI_BASE = "/docs/assets";

export function isSwaggerUiFile(file: string): file is SwaggerUiFile {
  return (SWAGGER_UI_FILES as readonly string[]).includes(file);
}
