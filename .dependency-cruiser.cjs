/**
 * The worker's layers, bottom to top. A folder imports only from its own layer or the layers below
 * it; `npm run lint:deps` (part of `npm test`) fails on any import that climbs. The README's
 * "Architecture" section says what each layer is for.
 *
 * Among the observers (monitoring, feedback, traffic, metrics) the order is fixed too: traffic
 * writes samples through monitoring, and metrics reads monitoring's drift status, so monitoring is
 * the lowest of them and metrics the highest. observations/ (the queue's messages and consumer)
 * sits above them all: it carries monitoring's samples and traffic's shadow jobs.
 *
 * explain/ (per-feature contributions, pure math on the explainer artifact) sits right above
 * inference/ but imports only contract/: it runs inside workerd, in the trainer and in tests alike.
 *
 * docs/ (the OpenAPI document and the /docs pages) sits below api/ rather than above it: the
 * api/docs.ts route serves it, and the document itself is built only from the domain's zod schemas.
 */
const LAYERS = [
  ["worker/contract/", "worker/errors\\.ts$", "worker/db/"],
  ["worker/inference/"],
  ["worker/explain/"],
  ["worker/registry/"],
  ["worker/settings\\.ts$", "worker/services\\.ts$"],
  ["worker/scoring/"],
  ["worker/monitoring/"],
  ["worker/feedback/"],
  ["worker/traffic/"],
  ["worker/metrics/"],
  ["worker/rollouts/"],
  ["worker/observations/"],
  ["worker/http/"],
  ["worker/docs/"],
  ["worker/api/"],
  ["worker/app\\.ts$"],
  ["worker/index\\.ts$"],
];

const anyOf = (patterns) => `^(${patterns.join("|")})`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-imports-upward`,
  comment: `${layer.join(", ")} may import only from its own layer or below (see .dependency-cruiser.cjs)`,
  severity: "error",
  from: { path: anyOf(layer) },
  to: { path: anyOf(LAYERS.slice(i + 1).flat()) },
}));

/** Everything below http/: the domain, which the cron, the queue consumer, the CLI and tests call without HTTP. */
const BELOW_HTTP = LAYERS.slice(0, LAYERS.findIndex((l) => l[0] === "worker/http/")).flat();

module.exports = {
  forbidden: [
    {
      name: "worker-file-outside-the-layers",
      comment: "every worker file belongs to a layer of LAYERS in .dependency-cruiser.cjs: a new folder is placed there first",
      severity: "error",
      from: { path: "^worker/", pathNot: `${anyOf(LAYERS.flat())}|\\.d\\.ts$` },
      to: {},
    },
    {
      name: "no-circular",
      comment: "no import cycle anywhere, between files or through folders",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: "contract-is-self-contained",
      comment: "worker/contract/ is shared with the trainer: it imports nothing else of the project",
      severity: "error",
      from: { path: "^worker/contract/" },
      to: { path: "^(worker|trainer|scripts|test)/", pathNot: "^worker/contract/" },
    },
    {
      name: "explain-is-pure",
      comment: "worker/explain/ is math on the explainer artifact: it imports only worker/contract/ and itself, and no package but zod through the contract",
      severity: "error",
      from: { path: "^worker/explain/" },
      to: { pathNot: "^worker/(contract|explain)/" },
    },
    {
      name: "no-hono-below-http",
      comment: "the domain does not know HTTP; HTML templates (hono/html) are the one exception",
      severity: "error",
      from: { path: anyOf(BELOW_HTTP) },
      to: { path: "(^|/)node_modules/(hono|@hono)/", pathNot: "(^|/)node_modules/hono/dist/(types/|cjs/)?(helper/html|utils/html)" },
    },
    {
      name: "trainer-reaches-only-contract-and-registry",
      comment:
        "the trainer uses the shared contract, computes its explainer's golden contributions with worker/explain/ and publishes through the registry's own code path (the local CLI also reads shadow pairs and starts, reads and aborts rollouts); never the worker's HTTP, scoring or observers",
      severity: "error",
      from: { path: "^trainer/" },
      to: { path: "^worker/", pathNot: "^worker/(contract/|explain/|errors\\.ts$|db/|registry/|rollouts/|traffic/shadow-store\\.ts$)" },
    },
    {
      name: "trainer-not-scripts",
      comment: "trainer/ is a library for scripts/, never the other way round",
      severity: "error",
      from: { path: "^trainer/" },
      to: { path: "^scripts/" },
    },
    {
      name: "trainer-commands-on-top",
      comment: "trainer/commands/ are the CLI's entry points (cli.ts mounts them): the trainer's library code never imports them",
      severity: "error",
      from: { path: "^trainer/", pathNot: "^trainer/(commands/|cli\\.ts$)" },
      to: { path: "^trainer/commands/" },
    },
    {
      name: "worker-not-node-side",
      comment: "the Worker bundle never imports the trainer, scripts or tests",
      severity: "error",
      from: { path: "^worker/" },
      to: { path: "^(trainer|scripts|test)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^worker/worker-configuration\\.d\\.ts$" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".d.ts", ".js", ".mjs", ".cjs", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
