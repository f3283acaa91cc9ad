// The callbacks below run inside the browser. The project compiles without the DOM's types (they
// would change Node's globals for every file), so the little of the DOM used here is declared here.
interface DomElement {
  dataset: Record<string, string | undefined>;
  classList: { contains(name: string): boolean };
  textContent: string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
}
interface DomImage {
  src: string;
  width: number;
  height: number;
  decode(): Promise<void>;
}
interface DomCanvas {
  width: number;
  height: number;
  getContext(kind: "2d"): {
    drawImage(image: DomImage, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface DomGlobals {
  Image: new () => DomImage;
  document: { createElement(tag: "canvas"): DomCanvas };
}
import type { Browser, Page } from "playwright-core";

/** One row as the page shows it: what a person sees, plus the raw values the cells were drawn from. */
export interface ShownRow {
  host: string;
  index: number;
  status: string;
  hot: boolean;
  cells: Record<
    string,
    { text: string; value: number | undefined; time: number; points: number; first: number }
  >;
}

/** The rows the page shows, in urgency order (their place in the list, not in the DOM). */
export async function shownRows(page: Page): Promise<ShownRow[]> {
  const rows = await page.$$eval(".host-row:not([hidden])", (elements) =>
    (elements as unknown as DomElement[]).map((row) => {
      const cells: Record<
        string,
        { text: string; value: number | undefined; time: number; points: number; first: number }
      > = {};
      for (const cell of row.querySelectorAll(".metric")) {
        const canvas = cell.querySelector("canvas")!;
        cells[cell.dataset.metric!] = {
          text: cell.querySelector(".value")!.textContent ?? "",
          value: cell.dataset.value === undefined ? undefined : Number(cell.dataset.value),
          time: Number(cell.dataset.time ?? 0),
          points: Number(canvas.dataset.points ?? 0),
          first: Number(canvas.dataset.first ?? 0),
        };
      }
      return {
        host: row.dataset.host ?? "",
        index: Number(row.dataset.index),
        status: row.dataset.status ?? "",
        hot: row.classList.contains("hot"),
        cells,
      };
    }),
  );
  return rows.sort((a, b) => a.index - b.index);
}

export async function shownRow(page: Page, host: string): Promise<ShownRow | undefined> {
  return (await shownRows(page)).find((r) => r.host === host);
}

/**
 * How much a PNG holds: the share of pixels that differ from the most common colour, and the number
 * of distinct colours. Decoded by the browser itself, in a blank page of its own.
 */
export async function pictureStats(
  browser: Browser,
  png: Buffer,
): Promise<{ width: number; inked: number; colours: number }> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (base64) => {
      const dom = globalThis as unknown as DomGlobals;
      const image = new dom.Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = dom.document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(image, 0, 0);
      const data = ctx.getImageData(0, 0, image.width, image.height).data;
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const pixels = data.length / 4;
      const background = Math.max(...counts.values());
      return { width: image.width, inked: 1 - background / pixels, colours: counts.size };
    }, png.toString("base64"));
  } finally {
    await page.close();
  }
}
