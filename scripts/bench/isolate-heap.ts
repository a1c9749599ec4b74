/**
 * The Worker isolate's V8 heap, watched through workerd's inspector (Chrome DevTools Protocol,
 * `Runtime.getHeapUsage`) while something runs: the figure Cloudflare's 128 MB per-isolate memory
 * limit is about (plus wasm memory, which lives outside the JS heap). Requests are answered
 * whenever the isolate yields (at every await), so the peak is sampled at await points, which is
 * where a job that reads D1 in pages holds what it has read so far.
 */
import { WebSocket } from "ws";
import { sleep } from "./process";

export interface HeapWatch {
  stop(): Promise<{ peakUsedMiB: number; peakTotalMiB: number; samples: number }>;
}

interface Target {
  title?: string;
  url?: string;
  webSocketDebuggerUrl?: string;
}

/** Connects to the inspector's first target whose title or url matches `worker` (Miniflare's user worker by default). */
export async function watchIsolateHeap(inspectorPort: number, intervalMs = 20): Promise<HeapWatch> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as Target[];
  const target = targets.find((t) => /core:user:/.test(`${t.title ?? ""} ${t.url ?? ""}`)) ?? targets.find((t) => t.webSocketDebuggerUrl);
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target on port ${inspectorPort}: ${JSON.stringify(targets)}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let id = 0;
  const pending = new Map<number, (result: { usedSize: number; totalSize: number }) => void>();
  socket.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: { usedSize: number; totalSize: number } };
    if (message.id !== undefined && message.result) pending.get(message.id)?.(message.result);
  });
  const usage = () =>
    new Promise<{ usedSize: number; totalSize: number }>((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      socket.send(JSON.stringify({ id: n, method: "Runtime.getHeapUsage" }));
    });
  let peakUsed = 0;
  let peakTotal = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const u = await usage();
      peakUsed = Math.max(peakUsed, u.usedSize);
      peakTotal = Math.max(peakTotal, u.totalSize);
      samples++;
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      socket.close();
      return { peakUsedMiB: peakUsed / 2 ** 20, peakTotalMiB: peakTotal / 2 ** 20, samples };
    },
  };
}
