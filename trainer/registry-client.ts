/**
 * The registry as the release commands see it: publish, alias moves, archive and reads, either over
 * HTTP against a deployed worker or `wrangler dev` (this file), or straight into the local D1 + R2
 * state (local-registry-client.ts). Every failure becomes a RegistryError whose message names the
 * cause: unreachable, token missing or refused, artifact rejected (with the worker's step), unknown.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import type {
  aliasChangeSchema,
  archivedVersionSchema,
  modelDetailSchema,
  publishedVersionSchema,
  shadowReportSchema,
  trafficPolicySchema,
  versionDetailSchema,
} from "../worker/registry/registry-views";
import type { trafficBodySchema } from "../worker/registry/traffic-schemas";
import type { rolloutBodySchema, rolloutHistorySchema, rolloutViewSchema } from "../worker/rollouts/rollouts";
import { UsageError } from "./user-errors";

/** A failure the user acts on (start the server, set the token, fix the artifact): exit 2, no stack. */
export class RegistryError extends UsageError {
  override name = "RegistryError";
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ArtifactFiles {
  onnx: Uint8Array<ArrayBuffer>;
  manifestText: string;
  modelCard?: string;
  reference?: string;
  explainer?: string;
}

/** Response types come from the worker's own zod schemas (the ones its OpenAPI document is built from). */
export type AliasMoveResult = z.output<typeof aliasChangeSchema>;
export type PublishResult = z.output<typeof publishedVersionSchema>;
export type ModelDetail = z.output<typeof modelDetailSchema>;
export type VersionDetail = z.output<typeof versionDetailSchema>;
export type ArchiveResult = z.output<typeof archivedVersionSchema>;
export type TrafficPolicyView = z.output<typeof trafficPolicySchema>;
export type ShadowReport = z.output<typeof shadowReportSchema>;
/** PUT /admin/models/:name/traffic: an absent key leaves that part as it is, null removes it. */
export type TrafficChangeBody = z.input<typeof trafficBodySchema>;
export type RolloutView = z.output<typeof rolloutViewSchema>;
export type RolloutHistory = z.output<typeof rolloutHistorySchema>;
/** POST /admin/models/:name/rollouts: what is left out takes the worker's defaults. */
export type RolloutStartBody = z.input<typeof rolloutBodySchema>;

export interface Registry {
  /** Where the registry is, for messages: a URL or the local state directory. */
  readonly location: string;
  publish(files: ArtifactFiles, options: { name: string; aliases: string[]; reason?: string }): Promise<PublishResult>;
  setAlias(name: string, alias: string, move: { version: number; reason: string; evidence?: Record<string, unknown> }): Promise<AliasMoveResult>;
  rollback(name: string, options: { alias?: string; reason: string }): Promise<AliasMoveResult>;
  archive(name: string, version: number, reason: string): Promise<ArchiveResult>;
  /** null when the registry has no model of that name. */
  model(name: string): Promise<ModelDetail | null>;
  version(name: string, version: number): Promise<VersionDetail>;
  modelOnnx(name: string, version: number): Promise<Uint8Array>;
  traffic(name: string): Promise<TrafficPolicyView>;
  setTraffic(name: string, change: TrafficChangeBody): Promise<TrafficPolicyView>;
  clearTraffic(name: string, reason: string): Promise<TrafficPolicyView>;
  shadowPairs(name: string, query: { limit?: number; version?: number }): Promise<ShadowReport>;
  startRollout(name: string, body: RolloutStartBody): Promise<RolloutView>;
  abortRollout(name: string, id: number, reason: string): Promise<RolloutView>;
  /** Every rollout of the model, latest first (the active one, if any, among them). */
  rollouts(name: string): Promise<RolloutHistory>;
}

/** The files of a run directory as publish sends them; model.onnx and manifest.json are required. */
export function readArtifactDir(dir: string): ArtifactFiles {
  for (const file of ["model.onnx", "manifest.json"])
    if (!existsSync(join(dir, file))) throw new UsageError(`${dir} has no ${file}: is it a run directory from \`npm run train\`?`);
  const optional = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : undefined);
  return {
    onnx: new Uint8Array(readFileSync(join(dir, "model.onnx"))),
    manifestText: readFileSync(join(dir, "manifest.json"), "utf8"),
    modelCard: optional("model-card.md"),
    reference: optional("reference.json"),
    explainer: optional("explainer.json"),
  };
}

interface ErrorEnvelope {
  error?: { code?: string; message?: string; details?: { step?: string } };
}

export interface HttpRegistryOptions {
  url: string;
  /** ADMIN_TOKEN; checked before any admin request is sent, never taken from a flag. */
  token?: string;
  actor: string;
}

export class HttpRegistry implements Registry {
  readonly location: string;

  constructor(private readonly options: HttpRegistryOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new UsageError(`registry URL ${JSON.stringify(options.url)} is not a URL (e.g. http://127.0.0.1:8787)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`registry URL ${options.url} must be http:// or https://`);
    this.location = url.href.replace(/\/+$/, "");
  }

  async publish(files: ArtifactFiles, options: { name: string; aliases: string[]; reason?: string }): Promise<PublishResult> {
    const form = new FormData();
    form.append("model.onnx", new Blob([files.onnx], { type: "application/octet-stream" }), "model.onnx");
    form.append("manifest.json", new Blob([files.manifestText], { type: "application/json" }), "manifest.json");
    if (files.modelCard !== undefined) form.append("model-card.md", new Blob([files.modelCard], { type: "text/markdown" }), "model-card.md");
    if (files.reference !== undefined) form.append("reference.json", new Blob([files.reference], { type: "application/json" }), "reference.json");
    if (files.explainer !== undefined) form.append("explainer.json", new Blob([files.explainer], { type: "application/json" }), "explainer.json");
    if (options.aliases.length) form.append("aliases", options.aliases.join(","));
    if (options.reason) form.append("reason", options.reason);
    // Serialised up front: R2 refuses a stream of unknown length, so the worker requires Content-Length.
    const serialised = new Response(form);
    const body = new Uint8Array(await serialised.arrayBuffer());
    return this.admin<PublishResult>("POST", `/admin/models/${enc(options.name)}/versions`, body, serialised.headers.get("content-type")!);
  }

  setAlias(name: string, alias: string, move: { version: number; reason: string; evidence?: Record<string, unknown> }) {
    return this.admin<AliasMoveResult>("PUT", `/admin/models/${enc(name)}/aliases/${enc(alias)}`, JSON.stringify(move), "application/json");
  }

  rollback(name: string, options: { alias?: string; reason: string }) {
    return this.admin<AliasMoveResult>("POST", `/admin/models/${enc(name)}/rollback`, JSON.stringify(options), "application/json");
  }

  archive(name: string, version: number, reason: string) {
    return this.admin<ArchiveResult>("POST", `/admin/models/${enc(name)}/versions/${version}/archive`, JSON.stringify({ reason }), "application/json");
  }

  async model(name: string): Promise<ModelDetail | null> {
    const res = await this.send("GET", `/models/${enc(name)}`);
    if (res.status === 404) return null;
    return this.json<ModelDetail>(res);
  }

  async version(name: string, version: number): Promise<VersionDetail> {
    return this.json<VersionDetail>(await this.send("GET", `/models/${enc(name)}/versions/${version}`));
  }

  async modelOnnx(name: string, version: number): Promise<Uint8Array> {
    const res = await this.send("GET", `/models/${enc(name)}/versions/${version}/artifacts/model.onnx`);
    if (!res.ok) await this.fail(res);
    return new Uint8Array(await res.arrayBuffer());
  }

  async traffic(name: string): Promise<TrafficPolicyView> {
    return this.json<TrafficPolicyView>(await this.send("GET", `/models/${enc(name)}/traffic`));
  }

  setTraffic(name: string, change: TrafficChangeBody) {
    return this.admin<TrafficPolicyView>("PUT", `/admin/models/${enc(name)}/traffic`, JSON.stringify(change), "application/json");
  }

  clearTraffic(name: string, reason: string) {
    return this.admin<TrafficPolicyView>("DELETE", `/admin/models/${enc(name)}/traffic`, JSON.stringify({ reason }), "application/json");
  }

  shadowPairs(name: string, query: { limit?: number; version?: number }) {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.version !== undefined) params.set("version", String(query.version));
    const search = params.size ? `?${params}` : "";
    return this.admin<ShadowReport>("GET", `/admin/models/${enc(name)}/shadow${search}`);
  }

  startRollout(name: string, body: RolloutStartBody) {
    return this.admin<RolloutView>("POST", `/admin/models/${enc(name)}/rollouts`, JSON.stringify(body), "application/json");
  }

  abortRollout(name: string, id: number, reason: string) {
    return this.admin<RolloutView>("POST", `/admin/models/${enc(name)}/rollouts/${id}/abort`, JSON.stringify({ reason }), "application/json");
  }

  async rollouts(name: string): Promise<RolloutHistory> {
    return this.json<RolloutHistory>(await this.send("GET", `/models/${enc(name)}/rollouts`));
  }

  private async admin<T>(method: string, path: string, body?: Uint8Array<ArrayBuffer> | string, type?: string): Promise<T> {
    const token = this.options.token;
    if (!token) throw new RegistryError(`ADMIN_TOKEN is not set: export the registry's admin token (wrangler secret / .dev.vars) before ${method} ${path}`);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, "x-actor": this.options.actor };
    if (type) headers["content-type"] = type;
    return this.json<T>(await this.send(method, path, { body, headers }));
  }

  private async send(method: string, path: string, init: { body?: Uint8Array<ArrayBuffer> | string; headers?: Record<string, string> } = {}): Promise<Response> {
    try {
      return await fetch(`${this.location}${path}`, { method, body: init.body, headers: init.headers });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new RegistryError(`registry ${this.location} unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }

  private async json<T>(res: Response): Promise<T> {
    if (!res.ok) await this.fail(res);
    return (await res.json()) as T;
  }

  private async fail(res: Response): Promise<never> {
    const text = await res.text();
    let envelope: ErrorEnvelope = {};
    try {
      envelope = JSON.parse(text) as ErrorEnvelope;
    } catch {
      // not the worker's envelope (a proxy's HTML page, say): show the start of the body instead
    }
    const { code, message = text.slice(0, 200) || res.statusText, details } = envelope.error ?? {};
    const where = `registry ${this.location}`;
    if (res.status === 401 || res.status === 403)
      throw new RegistryError(`${where} refused the admin token (${res.status}${code ? ` ${code}` : ""}): ${message}`, res.status, code);
    if (details?.step) throw new RegistryError(`${where} rejected the artifact at step ${details.step}: ${message}`, res.status, code);
    throw new RegistryError(`${where} answered ${res.status}${code ? ` ${code}` : ""}: ${message}`, res.status, code);
  }
}

const enc = encodeURIComponent;
