import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One POST the authorizer received: its JSON body and its own request headers. */
export interface AuthorizerCall {
  body: any;
  headers: IncomingHttpHeaders;
}

/** How the authorizer answers: a status and body, or it never answers (`hang`). */
export type AuthorizerAnswer = { status: number; body?: unknown; text?: string } | "hang";

/**
 * A real application authorizer on 127.0.0.1: it records every call and answers what the test
 * says (`answer` may change between tests). Hanging requests are ended when it closes.
 */
export class TestAuthorizer {
  readonly calls: AuthorizerCall[] = [];
  answer: (call: AuthorizerCall) => AuthorizerAnswer = () => ({ status: 200, body: {} });
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<TestAuthorizer> {
    const server = createServer();
    const authorizer = new TestAuthorizer(server);
    server.on("request", (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const call = { body: JSON.parse(Buffer.concat(chunks).toString("utf8")), headers: request.headers };
        authorizer.calls.push(call);
        const answer = authorizer.answer(call);
        if (answer === "hang") return;
        if (answer.text !== undefined) {
          response.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.text);
        } else if (answer.body === undefined) {
          response.writeHead(answer.status).end();
        } else {
          response
            .writeHead(answer.status, { "content-type": "application/json" })
            .end(JSON.stringify(answer.body));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return authorizer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/authorize`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A URL nothing listens on: a port that was free a moment ago. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/authorize`;
}
