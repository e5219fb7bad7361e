import { request } from "node:http";

export interface SlowSender {
  /** Bytes handed to the socket so far. */
  readonly sent: () => number;
  /** Resolves once the server has received at least `bytes` (approximately: once we have written them). */
  readonly wrote: (bytes: number) => Promise<void>;
  /** How the request ended: a response, or the connection cut. */
  readonly outcome: Promise<
    { kind: "response"; status: number; body: string } | { kind: "cut"; code: string }
  >;
  /** Resolves when the socket is closed. */
  readonly closed: Promise<void>;
  stop(): void;
}

/**
 * A segment PUT that trickles its body (a slow sender), with a real socket, so a test can
 * cancel while it is in flight and see whether the server cuts it off.
 */
export function startSlowSender(
  url: string,
  token: string,
  totalBytes: number,
  options: { chunkBytes?: number; intervalMs?: number } = {},
): SlowSender {
  const chunkBytes = options.chunkBytes ?? 16 * 1024;
  const intervalMs = options.intervalMs ?? 5;
  let sent = 0;
  const waiters: Array<{ bytes: number; resolve: () => void }> = [];
  const req = request(url, {
    method: "PUT",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/octet-stream",
      "content-length": String(totalBytes),
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = new Promise<
    { kind: "response"; status: number; body: string } | { kind: "cut"; code: string }
  >((resolve) => {
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ kind: "response", status: res.statusCode ?? 0, body }));
      res.on("error", (error: NodeJS.ErrnoException) =>
        resolve({ kind: "cut", code: error.code ?? "error" }),
      );
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ kind: "cut", code: error.code ?? "error" }));
  });
  const closed = new Promise<void>((resolve) => {
    req.on("socket", (socket) => socket.once("close", () => resolve()));
  });
  const pump = () => {
    if (req.destroyed || sent >= totalBytes) return;
    const size = Math.min(chunkBytes, totalBytes - sent);
    req.write(Buffer.alloc(size, sent % 251));
    sent += size;
    for (const waiter of waiters.filter((w) => sent >= w.bytes)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (sent >= totalBytes) req.end();
    else timer = setTimeout(pump, intervalMs);
  };
  req.flushHeaders();
  pump();
  return {
    sent: () => sent,
    wrote: (bytes) =>
      new Promise((resolve) => {
        if (sent >= bytes) resolve();
        else waiters.push({ bytes, resolve });
      }),
    outcome,
    closed,
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      req.destroy();
    },
  };
}
