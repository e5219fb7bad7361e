// @tus/server 2.x with @tus/file-store, run as its own process so its peak RSS is its own:
// `node tus-server-process.mjs DIR` serves tus at http://127.0.0.1:<port>/files/ and prints
// the port. Defaults otherwise (no size limit, no expiration), as a user starts it.
import { createServer } from "node:http";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const directory = process.argv[2];
if (!directory) throw new Error("usage: node tus-server-process.mjs DIR");
const tus = new Server({ path: "/files", datastore: new FileStore({ directory }) });
const server = createServer((req, res) => tus.handle(req, res));
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
