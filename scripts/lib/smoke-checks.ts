/**
 * The smoke test a release runs after each deploy or alias move: liveness, readiness (the default
 * model resolves and loads), the OpenAPI document, and one real prediction with the row the
 * document itself gives as its example, so the check follows whatever model is deployed.
 */
export interface SmokeStep {
  step: string;
  detail: string;
}

export interface SmokeOptions {
  /** When set, /ready and /predict must report this version of the default model. */
  expectVersion?: number;
  log?: (step: SmokeStep) => void;
  timeoutMs?: number;
}

export class SmokeFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`smoke ${step} failed: ${message}`);
  }
}

export async function runSmoke(base: string, options: SmokeOptions = {}): Promise<SmokeStep[]> {
  const root = base.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 15_000;
  const steps: SmokeStep[] = [];
  const pass = (step: string, detail: string) => {
    const s = { step, detail };
    steps.push(s);
    options.log?.(s);
  };

  const call = async (step: string, path: string, init?: RequestInit): Promise<{ res: Response; body: unknown }> => {
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new SmokeFailure(step, `${root}${path} unreachable (${cause?.code ?? cause?.message ?? (error as Error).message})`);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported as text below
    }
    if (!res.ok) throw new SmokeFailure(step, `${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return { res, body };
  };
  const checkVersion = (step: string, version: unknown) => {
    if (options.expectVersion !== undefined && version !== options.expectVersion)
      throw new SmokeFailure(step, `expected version ${options.expectVersion} of the default model, got ${String(version)}`);
  };

  const health = await call("health", "/health");
  pass("health", JSON.stringify(health.body));

  const ready = (await call("ready", "/ready")).body as { model?: string; version?: number; alias?: string };
  checkVersion("ready", ready.version);
  pass("ready", `${ready.model} version ${ready.version} at alias ${ready.alias}`);

  const doc = (await call("openapi", "/openapi.json")).body as OpenApiShape;
  const example = doc?.paths?.["/predict"]?.post?.requestBody?.content?.["application/json"]?.examples?.row?.value;
  if (!example || typeof example !== "object") throw new SmokeFailure("openapi", "/openapi.json has no example row for POST /predict (no default model loaded?)");
  pass("openapi", `OpenAPI ${doc.openapi}, example row with ${Object.keys(example).length} fields`);

  const predicted = await call("predict", "/predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(example) });
  const version = Number(predicted.res.headers.get("x-model-version"));
  checkVersion("predict", version);
  const result = predicted.body as Record<string, unknown>;
  const probability = Object.entries(result).find(([k]) => k.endsWith("_probability"))?.[1];
  if (typeof probability !== "number" || !(probability >= 0 && probability <= 1))
    throw new SmokeFailure("predict", `no probability in [0, 1] in ${JSON.stringify(result).slice(0, 300)}`);
  pass("predict", `version ${version}: ${JSON.stringify(result)}`);
  return steps;
}

interface OpenApiShape {
  openapi?: string;
  paths?: Record<string, { post?: { requestBody?: { content?: Record<string, { examples?: Record<string, { value?: unknown }> }> } } }>;
}
