import { defineConfig } from "vite";

// Relative asset URLs, so the page works wherever `cleancut serve` mounts it.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022" },
});
