/**
 * `fetch-data --key <key> --remote|--local`: the training CSV from an R2 object into the config's
 * data.train_path (or --out), with `<file>.source.json` beside it recording the bucket, key and
 * sha256 that `train` puts in the manifest and `gate` checks.
 */
import { dirname, resolve } from "node:path";
import { defineCommand } from "citty";
import { loadConfig } from "../config";
import { fetchTrainingData } from "../data/fetch-training-data";
import { objectUrl, trainingDataPath } from "../data/training-data-source";
import { UsageError } from "../user-errors";

export const fetchDataCommand = defineCommand({
  meta: { name: "fetch-data", description: "Fetch the training CSV from an R2 object and record its sha256 beside it" },
  args: {
    key: { type: "string", description: "R2 object key, e.g. datasets/churn.csv", required: true },
    bucket: { type: "string", description: "R2 bucket (default: wrangler.toml's MODELS bucket)" },
    remote: { type: "boolean", default: false, description: "Fetch from Cloudflare (needs CLOUDFLARE_API_TOKEN)" },
    local: { type: "boolean", default: false, description: "Fetch from the local state wrangler dev uses" },
    "persist-to": { type: "string", description: "With --local: wrangler's --persist-to (default .wrangler/state)" },
    config: { type: "string", description: "Config whose data.train_path receives the file", default: "config.yaml" },
    out: { type: "string", description: "Write here instead of the config's data.train_path" },
  },
  async run({ args }) {
    if (args.remote === args.local) throw new UsageError("pass exactly one of --remote (Cloudflare) or --local (wrangler's local state)");
    if (args.remote && args["persist-to"] !== undefined) throw new UsageError("--persist-to applies to --local only");
    const out = args.out !== undefined ? resolve(args.out) : trainingDataPath(loadConfig(args.config).config.data.train_path, dirname(resolve(args.config)));
    const fetched = await fetchTrainingData({
      key: args.key,
      bucket: args.bucket,
      out,
      where: args.remote ? { remote: true } : { remote: false, persistTo: args["persist-to"] },
    });
    console.log(`fetched ${objectUrl(fetched.source)} (${args.remote ? "remote" : "local"}) to ${out}: ${fetched.bytes} bytes, sha256 ${fetched.source.sha256}`);
  },
});
