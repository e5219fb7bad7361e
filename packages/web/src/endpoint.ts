/**
 * The server's API base: the folder the page was served from, not the origin, so the page works
 * when cleancut is mounted under a path of another app (e.g. `app.use("/uploads", handler)`
 * serves it at `/uploads/` and the API at `/uploads/v1/...`).
 */
export const endpoint = new URL(".", location.href).href;
