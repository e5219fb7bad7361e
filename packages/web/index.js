// The package's only runtime code: where its prebuilt page is, for a server to serve it.
// The page itself (dist/) is a Vite build with @cleancut/client bundled in: it needs nothing installed.
import { fileURLToPath } from "node:url";

/** Absolute path of the folder holding the built page (`index.html` and `assets/`). */
export const webRoot = fileURLToPath(new URL("./dist/", import.meta.url));
