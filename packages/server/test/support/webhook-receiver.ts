import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { UploadEvent } from "@cleancut/core";
import { Webhook } from "standardwebhooks";

/** One POST as the receiver saw it. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  event: UploadEvent;
  /** Date.now() when the body had fully arrived. */
  receivedAt: number;
}

/**
 * How the receiver answers one request: a status (after an optional delay), or `hang` (never
 * answers until the receiver closes). Decided per request, so a test can fail one upload only.
 */
export type Answer = { status: number; delayMs?: number } | "hang";

/**
 * A real HTTP receiver on 127.0.0.1 (node:http, no framework) that records every webhook and
 * answers as the test says. `accepted` holds those it answered with a 2xx.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (webhook: ReceivedWebhook) => Answer = () => ({ status: 204 });
  readonly #server: Server;
  readonly #hanging = new Set<ServerResponse>();
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(port = 0): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on("request", (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const webhook: ReceivedWebhook = {
          headers: request.headers,
          body,
          event: JSON.parse(body) as UploadEvent,
          receivedAt: Date.now(),
        };
        receiver.received.push(webhook);
        const answer = receiver.answer(webhook);
        if (answer === "hang") {
          receiver.#hanging.add(response);
          response.on("close", () => receiver.#hanging.delete(response));
          return;
        }
        const reply = () => {
          (webhook as { status?: number }).status = answer.status;
          response
            .writeHead(answer.status, { "content-type": "text/plain" })
            .end(`answered ${answer.status}`);
        };
        if (answer.delayMs === undefined) {
          reply();
          return;
        }
        // A slow receiver: the connection stays open, the answer comes after the delay.
        receiver.#hanging.add(response);
        response.on("close", () => receiver.#hanging.delete(response));
        const timer = setTimeout(() => {
          receiver.#timers.delete(timer);
          reply();
        }, answer.delayMs);
        receiver.#timers.add(timer);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Webhooks this receiver answered with a 2xx. */
  get accepted(): ReceivedWebhook[] {
    return this.received.filter((webhook) => {
      const status = (webhook as { status?: number }).status;
      return status !== undefined && status >= 200 && status < 300;
    });
  }

  /** Events of one upload, in arrival order, answered 2xx. */
  acceptedFor(uploadId: string): UploadEvent[] {
    return this.accepted.filter((webhook) => webhook.event.data.uploadId === uploadId).map((w) => w.event);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const response of this.#hanging) response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A fresh Standard Webhooks secret (`whsec_` + 32 random bytes in base64). */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
}

/** Verifies with the `standardwebhooks` package (not cleancut's code); throws when it refuses. */
export function verifyWebhook(secret: string, webhook: ReceivedWebhook): unknown {
  return new Webhook(secret).verify(webhook.body, {
    "webhook-id": String(webhook.headers["webhook-id"]),
    "webhook-timestamp": String(webhook.headers["webhook-timestamp"]),
    "webhook-signature": String(webhook.headers["webhook-signature"]),
  });
}

/** A 127.0.0.1 port nothing listens on (bound, then closed): connections to it are refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
