import { chromium, type Browser } from "playwright-core";
import { ensureDebianBinary } from "./debian.ts";

/**
 * Debian's Chromium, driven by playwright-core: no browser download, the package is installed when
 * missing as the other services are. Headless, no sandbox (tests may run as root), and none of
 * the background traffic a fresh profile would start (there is no internet to reach anyway).
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = ensureDebianBinary("chromium", "chromium");
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
