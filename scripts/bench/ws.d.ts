/** The part of `ws` 8 (installed with miniflare) the heap watcher uses; the package ships no types. */
declare module "ws" {
  import type { EventEmitter } from "node:events";

  export class WebSocket extends EventEmitter {
    constructor(url: string);
    static readonly OPEN: number;
    readonly readyState: number;
    send(data: string): void;
    close(): void;
  }
}
