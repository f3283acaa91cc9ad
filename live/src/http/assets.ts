import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** A file the page needs, read once at start and served from memory. */
export interface Asset {
  body: Buffer;
  type: string;
}

/** live/page, seen from the sources (live/src/http) or from the bundle `npm run build` makes (live/dist). */
const pageDir =
  [join(import.meta.dirname, "..", "..", "page"), join(import.meta.dirname, "..", "page")].find((dir) =>
    existsSync(join(dir, "index.html")),
  ) ?? join(import.meta.dirname, "..", "..", "page");
const require = createRequire(import.meta.url);
/** uPlot from npm, served with the page: the machines that run this have no internet, so no CDN. */
const uplotDir = dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));

const FILES: Record<string, [string, string]> = {
  "/": [join(pageDir, "index.html"), "text/html; charset=utf-8"],
  "/app.js": [join(pageDir, "app.js"), "text/javascript; charset=utf-8"],
  "/app.css": [join(pageDir, "app.css"), "text/css; charset=utf-8"],
  "/vendor/uPlot.iife.min.js": [join(uplotDir, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
  "/vendor/uPlot.min.css": [join(uplotDir, "uPlot.min.css"), "text/css; charset=utf-8"],
};

/** Every asset by its URL path; a missing file fails the start, naming the file. */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [path, [file, type]] of Object.entries(FILES)) {
    try {
      assets.set(path, { body: readFileSync(file), type });
    } catch (error) {
      throw new Error(
        `page asset ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  return assets;
}
