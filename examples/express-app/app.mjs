import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { cleancutHandler } from "@cleancut/server";
import express from "express";
import { homePage, loginPage } from "./pages.mjs";
import { Sessions } from "./sessions.mjs";
import { Videos } from "./videos.mjs";
import { webhookRoute } from "./webhooks.mjs";

/**
 * The example app: Express, with cleancut mounted at /cleancut in the same process.
 * `port` 0 picks a free one; `cleancut` adds options for cleancut (e.g. `defaultSegmentSize`).
 * Resolves once it listens, with its `url` and a `close()`.
 */
export async function startExample({ port = 3000, host = "127.0.0.1", dataDir, cleancut = {} } = {}) {
  // Shared by the app and cleancut. Here both run in one process, so they are made up at start;
  // with cleancut deployed on its own they would come from the environment.
  const apiKey = process.env.CLEANCUT_API_KEY ?? randomBytes(24).toString("base64url");
  const webhookSecret = process.env.CLEANCUT_WEBHOOK_SECRET ?? `whsec_${randomBytes(32).toString("base64")}`;
  const sessions = new Sessions();
  const videos = new Videos();
  const app = express();
  app.disable("x-powered-by");

  // cleancut's API and its page. Mounted before any body parser: segment bodies stream to storage.
  // The handler is made once the app listens (its webhook URL needs the port).
  let uploads;
  app.use("/cleancut", (request, response, next) =>
    uploads === undefined ? response.status(503).end() : uploads(request, response, next),
  );

  // The app's own pages: no inline code; scripts, requests and frames from its own origin only.
  app.use((_request, response, next) => {
    response.set("content-security-policy", "default-src 'self'; object-src 'none'; base-uri 'self'");
    next();
  });
  app.use("/static", express.static(join(import.meta.dirname, "public")));
  app.get("/", (request, response) => {
    const user = sessions.userOf(request);
    response.type("html").send(user === undefined ? loginPage() : homePage(user));
  });
  app.post("/login", express.urlencoded({ extended: false }), (request, response) => {
    const name = String(request.body?.name ?? "").trim();
    if (name !== "") sessions.login(response, name);
    response.redirect(303, "/");
  });
  app.post("/logout", (request, response) => {
    sessions.logout(request, response);
    response.redirect(303, "/");
  });

  const loggedIn = (request, response, next) => {
    request.user = sessions.userOf(request);
    if (request.user === undefined) response.status(401).json({ error: "log in first" });
    else next();
  };

  // A new upload for the logged-in user, created server-to-server with the API key: the browser
  // never holds the key, only this one upload's id and token.
  app.post("/api/uploads", express.json(), loggedIn, async (request, response) => {
    const { filename, size, contentType } = request.body ?? {};
    const title = String(request.body?.title ?? "").trim() || "Untitled";
    const created = await fetch(`${cleancutUrl}/v1/uploads`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        filename,
        size,
        contentType,
        owner: request.user,
        metadata: { title },
      }),
    });
    const body = await created.json();
    if (!created.ok) {
      response.status(400).json({ error: body.error?.message ?? `cleancut answered ${created.status}` });
      return;
    }
    videos.addUpload({ uploadId: body.id, owner: request.user, title, filename, size });
    // The token goes in the fragment: browsers never send it to a server, so it stays out of logs.
    const fragment = new URLSearchParams({ upload: body.id, token: body.token });
    response.status(201).json({ id: body.id, uploaderUrl: `/cleancut/#${fragment}` });
  });

  app.get("/api/videos", loggedIn, (request, response) => {
    const { videos: rows, notes } = videos.listFor(request.user);
    const withLinks = rows.map((row) =>
      row.videoId === undefined ? row : { ...row, playUrl: `/cleancut/v1/videos/${row.videoId}/content` },
    );
    response.json({ videos: withLinks, notes });
  });

  app.post("/webhooks/cleancut", ...webhookRoute(webhookSecret, videos));

  const server = await new Promise((resolve, reject) => {
    const listening = app.listen(port, host, (error) => (error ? reject(error) : resolve(listening)));
  });
  const url = `http://${host}:${server.address().port}`;
  const cleancutUrl = `${url}/cleancut`;
  try {
    uploads = await cleancutHandler({
      dataDir: dataDir ?? join(import.meta.dirname, "data"),
      apiKey,
      webhookUrls: [`${url}/webhooks/cleancut`],
      webhookSecret,
      logLevel: "warn",
      ...cleancut,
    });
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    url,
    videos,
    async close() {
      await uploads.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
