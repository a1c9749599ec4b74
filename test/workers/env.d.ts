import type { D1Migration } from "@cloudflare/vitest-pool-workers";
import type { Manifest } from "../../worker/contract/manifest";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      TEST_FIXTURES: { name: string; manifest: Manifest; onnx_base64: string; explainer?: string }[];
    }
  }
}
