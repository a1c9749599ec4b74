/**
 * Node-side programs (the register and start scripts) reuse the worker's registry modules through
 * wrangler's platform proxy. Those modules name the runtime's binding types as globals; here they
 * come from the importable workers-types, without pulling the whole runtime's globals into Node.
 */
declare global {
  type D1Database = import("@cloudflare/workers-types").D1Database;
  type D1Result<T = unknown> = import("@cloudflare/workers-types").D1Result<T>;
  type R2Bucket = import("@cloudflare/workers-types").R2Bucket;
}

export {};
