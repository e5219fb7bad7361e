// `npm run example` (at the repository's root) or `npm start` here. PORT and DATA_DIR override the defaults.
import { startExample } from "./app.mjs";

const example = await startExample({
  port: Number(process.env.PORT ?? 3000),
  ...(process.env.DATA_DIR === undefined ? {} : { dataDir: process.env.DATA_DIR }),
});
console.log(`Example app with cleancut mounted at /cleancut: ${example.url}/`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    example.close().then(() => process.exit(0));
  });
}
