import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { dirname } from "node:path";
import type { LiveAuth } from "../config/live-config.ts";

/** How a request proved itself, or why not. */
export type AuthOutcome = { ok: true; setCookie?: string } | { ok: false; challenge: string | undefined };

export interface Authenticator {
  check(request: IncomingMessage): AuthOutcome;
  /** The token, for the URL to open; undefined with basic auth. */
  token: string | undefined;
}

/** The token in the file, or a new random one written there (0600, directory 0700) when the file is absent. */
export function loadOrCreateToken(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(24).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(file, 0o600);
  }
  const token = readFileSync(file, "utf8").trim();
  if (token.length < 16) throw new Error(`auth token file ${file}: the token must be at least 16 characters`);
  return token;
}

const digest = (text: string) => createHash("sha256").update(text).digest();
/** Compares in constant time, on digests so that lengths do not leak either. */
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * Token: `?token=` once (answered with an HttpOnly, SameSite=Strict cookie), then the cookie, or an
 * `Authorization: Bearer` header (Prometheus). Basic: the browser's own login prompt.
 */
export function createAuthenticator(auth: LiveAuth, cookieName: string, secure: boolean): Authenticator {
  if (auth.kind === "basic") {
    return {
      token: undefined,
      check(request) {
        const header = request.headers.authorization ?? "";
        const match = /^Basic\s+(.+)$/i.exec(header);
        if (match) {
          const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
          const colon = decoded.indexOf(":");
          if (
            colon > 0 &&
            same(decoded.slice(0, colon), auth.username) &&
            same(decoded.slice(colon + 1), auth.password)
          )
            return { ok: true };
        }
        return { ok: false, challenge: 'Basic realm="telemetry-live", charset="UTF-8"' };
      },
    };
  }
  const token = loadOrCreateToken(auth.file);
  return {
    token,
    check(request) {
      const query = new URL(request.url ?? "/", "http://localhost").searchParams.get("token");
      if (query !== null && same(query, token)) {
        const flags = `HttpOnly; SameSite=Strict; Path=/${secure ? "; Secure" : ""}`;
        return { ok: true, setCookie: `${cookieName}=${token}; ${flags}` };
      }
      const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "");
      if (bearer && same(bearer[1]!, token)) return { ok: true };
      const cookie = cookieValue(request.headers.cookie, cookieName);
      if (cookie !== undefined && same(cookie, token)) return { ok: true };
      return { ok: false, challenge: undefined };
    },
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}
