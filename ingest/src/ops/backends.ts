import type { Logger } from "pino";

export type BackendName = "broker" | "Redis" | "Elasticsearch";

/**
 * Whether each back end answers, as the ingest last saw it. Each change is logged once, naming the
 * back end, its URL (password redacted) and the cause: an outage is one line when it begins and one
 * when it ends, however often the clients retry in between.
 */
export class Backends {
  private readonly down = new Map<BackendName, string>();
  private readonly urls: Record<BackendName, string>;

  constructor(
    urls: Record<BackendName, string>,
    private readonly log: Logger,
  ) {
    this.urls = Object.fromEntries(
      Object.entries(urls).map(([name, url]) => [name, withoutPassword(url)]),
    ) as Record<BackendName, string>;
  }

  /** `doing` says what waits for it, e.g. "installing the index templates once it answers". */
  unreachable(name: BackendName, error: unknown, doing = "retrying"): void {
    const cause = causeOf(error);
    const first = !this.down.has(name);
    this.down.set(name, cause);
    if (!first) return;
    this.log.error(
      { event: "backend_unreachable", backend: name, url: this.urls[name], err: cause },
      `${name} at ${this.urls[name]} unreachable (${cause}); ${doing}`,
    );
  }

  reachable(name: BackendName): void {
    if (!this.down.delete(name)) return;
    this.log.info(
      { event: "backend_reachable", backend: name, url: this.urls[name] },
      `${name} at ${this.urls[name]} reachable again`,
    );
  }

  /** The back ends last seen unreachable, by name. */
  unreachableNow(): BackendName[] {
    return [...this.down.keys()];
  }
}

/** True for an error that says the other side cannot be reached, as opposed to an answer that refuses. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string };
  return (
    e?.name === "ConnectionError" ||
    e?.name === "TimeoutError" ||
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(
      e?.code ?? "",
    ) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection is closed/.test(e?.message ?? "")
  );
}

function causeOf(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.message || e?.code || String(error);
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "redacted";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}
