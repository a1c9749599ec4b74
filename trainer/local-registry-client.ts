/**
 * The Registry of registry-client.ts over the local D1 + R2 state that `wrangler dev` serves, with
 * no server running: the worker's own registry functions (publishVersion with the Node ORT, setAlias,
 * rollbackAlias, archiveVersion, startRollout, abortRollout), so a local release runs the same
 * checks and writes the same history as one over HTTP. Worker errors keep their messages, as the HTTP client reports them.
 */
import { applyLocalMigrations, localPublishTarget, withLocalBindings } from "./local-registry";
import { ApiError, ERROR_STATUS } from "../worker/errors";
import { rollbackAlias } from "../worker/registry/aliases";
import { PublishError, publishVersion } from "../worker/registry/publish-version";
import { artifactKey } from "../worker/registry/r2-keys";
import { openDb } from "../worker/db/open-db";
import { setAlias } from "../worker/registry/aliases";
import { archiveVersion, describeArchived } from "../worker/registry/version-lifecycle";
import { getModelDetail, getModelRow, getVersionDetail } from "../worker/registry/versions";
import { changePolicy, readPolicy, trafficView } from "../worker/registry/traffic-policy";
import { readShadowPairs } from "../worker/traffic/shadow-store";
import { shadowQuerySchema, trafficBodySchema } from "../worker/registry/traffic-schemas";
import { reasonBodySchema } from "../worker/registry/admin-schemas";
import { abortRollout, rolloutBodySchema, rolloutHistory, startRollout } from "../worker/rollouts/rollouts";
import { type ModelDetail, type Registry, RegistryError, type VersionDetail } from "./registry-client";

export interface LocalRegistryOptions {
  /** wrangler's --persist-to (default .wrangler/state). */
  persistTo?: string;
  actor: string;
  /** The alias rollback moves when none is named: the worker's DEFAULT_ALIAS. */
  defaultAlias?: string;
}

const migrated = new Set<string>();

/** Runs fn with a Registry on the local state; migrations are applied first, as `npm start` does. */
export async function withLocalRegistry<T>(options: LocalRegistryOptions, fn: (registry: Registry) => Promise<T>): Promise<T> {
  // Once per state directory and process: each apply spawns wrangler, and in-process callers (tests,
  // scripts chaining commands) would pay for it on every call.
  const state = options.persistTo ?? "";
  if (!migrated.has(state)) {
    applyLocalMigrations(options.persistTo);
    migrated.add(state);
  }
  return withLocalBindings(async (env) => {
    const db = openDb(env.DB);
    const location = `local state ${options.persistTo ?? ".wrangler/state"}`;
    const by = options.actor;
    const defaultAlias = options.defaultAlias ?? env.DEFAULT_ALIAS ?? "production";
    const registry: Registry = {
      location,
      publish: (files, o) =>
        publishVersion(localPublishTarget(env), {
          manifest: parseManifest(files.manifestText),
          onnx: files.onnx,
          modelCard: files.modelCard,
          reference: files.reference,
          explainer: files.explainer,
          createdBy: by,
          aliases: o.aliases,
          reason: o.reason,
        }),
      setAlias: async (name, alias, move) => ({ name, alias, ...(await setAlias(db, { name, alias, by, ...move })) }),
      rollback: async (name, o) => {
        const alias = o.alias ?? defaultAlias;
        return { name, alias, ...(await rollbackAlias(db, { name, alias, by, reason: o.reason })) };
      },
      archive: async (name, version, reason) => describeArchived(await archiveVersion(db, name, version, by, reason)),
      model: async (name) => {
        try {
          return await getModelDetail(db, name);
        } catch (error) {
          if (error instanceof ApiError && error.code === "NOT_FOUND") return null;
          throw error;
        }
      },
      version: (name, version) => getVersionDetail(db, name, version),
      modelOnnx: async (name, version) => {
        await getVersionDetail(db, name, version);
        const object = await env.MODELS.get(artifactKey(name, version, "model.onnx"));
        if (!object) throw new RegistryError(`${location}: version ${version} of ${name} has no model.onnx`);
        return new Uint8Array(await object.arrayBuffer());
      },
      traffic: async (name) => {
        await getModelRow(db, name);
        return trafficView(db, await readPolicy(db, name), defaultAlias);
      },
      setTraffic: async (name, change) => {
        const body = validBody(trafficBodySchema, change, location);
        const shadow = body.shadow && { version: body.shadow.version, sampleRate: body.shadow.sample_rate };
        const policy = await changePolicy(db, { name, canary: body.canary, shadow, entityField: body.entity_field, by, reason: body.reason });
        return trafficView(db, policy, defaultAlias);
      },
      clearTraffic: async (name, reason) => {
        const policy = await changePolicy(db, { name, canary: null, shadow: null, by, reason });
        return trafficView(db, policy, defaultAlias);
      },
      shadowPairs: async (name, query) => {
        await getModelRow(db, name);
        return readShadowPairs(db, name, validBody(shadowQuerySchema, query, location));
      },
      startRollout: (name, body) => startRollout(db, { ...validBody(rolloutBodySchema, body, location), name, by, now: Date.now(), defaultAlias }),
      abortRollout: (name, id, reason) => abortRollout(db, { name, id, by, reason: validBody(reasonBodySchema, { reason }, location).reason, now: Date.now() }),
      rollouts: (name) => rolloutHistory(db, name),
    };
    try {
      return await fn(registry);
    } catch (error) {
      throw asRegistryError(error, location);
    }
  }, options.persistTo);
}

function parseManifest(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RegistryError(`manifest.json is not JSON: ${(error as Error).message}`);
  }
}

/** The worker's own schema, refusing as the HTTP API would (422 naming each field). */
function validBody<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown, location: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "body"}: ${i.message}`).join("; ");
  throw new RegistryError(`${location}: 422 VALIDATION_FAILED: ${issues}`, 422, "VALIDATION_FAILED");
}

function asRegistryError(error: unknown, location: string): unknown {
  if (error instanceof PublishError) return new RegistryError(`${location} rejected the artifact at step ${error.step}: ${error.message}`, error.status, error.code);
  if (error instanceof ApiError) return new RegistryError(`${location}: ${error.status} ${error.code}: ${error.message}`, ERROR_STATUS[error.code], error.code);
  return error;
}
