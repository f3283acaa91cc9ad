import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Credentials, ImportConfig } from "./config.ts";

/** The part of the configuration a request needs. */
export type Connection = Pick<ImportConfig, "kibanaUrl" | "credentials" | "ca">;

export type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

interface HttpResponse {
  status: number;
  body: string;
}

/**
 * One HTTP exchange with Kibana. Node 20's global fetch cannot trust a private CA per request, so
 * the bytes go over node:http(s); the multipart body is still encoded by the standard FormData.
 */
async function send(
  connection: Connection,
  method: "GET" | "POST",
  path: string,
  timeoutMs: number,
  body?: { bytes: Buffer; contentType: string },
): Promise<HttpResponse> {
  const url = new URL(`${connection.kibanaUrl}${path}`);
  const headers: Record<string, string> = {
    accept: "application/json",
    // Kibana refuses state-changing requests without it (CSRF protection).
    "kbn-xsrf": "true",
    ...authorization(connection.credentials),
  };
  if (body) {
    headers["content-type"] = body.contentType;
    headers["content-length"] = String(body.bytes.byteLength);
  }
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        ...(connection.ca ? { ca: connection.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body?.bytes);
  });
}

function authorization(credentials: Credentials): Record<string, string> {
  switch (credentials.kind) {
    case "basic": {
      const token = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
      return { authorization: `Basic ${token}` };
    }
    case "apiKey":
      return { authorization: `ApiKey ${credentials.apiKey}` };
    case "none":
      return {};
  }
}

/** A network failure in a few words: the code (ECONNREFUSED, a TLS reason) rather than a stack. */
function describeFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { cause?: unknown };
  if (e.name === "TimeoutError" || e.name === "AbortError") return "no answer in time";
  const code = e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code;
  if (!code || e.message.includes(code)) return e.message;
  return `${code} (${e.message})`;
}

function refusal(status: number, action: string): string | undefined {
  if (status === 401) return `Kibana refused the credentials (401) ${action}`;
  if (status === 403) return `the user is not allowed (403) ${action}`;
  return undefined;
}

export interface WaitOptions {
  /** Total time to keep trying, in ms. */
  timeoutMs: number;
  /** Called before each pause, with why Kibana is not ready yet. */
  onRetry?: (reason: string, delayMs: number) => void;
  /** First pause; doubles up to maxDelayMs. @defaultValue 250 */
  initialDelayMs?: number;
  /** @defaultValue 5000 */
  maxDelayMs?: number;
  /**
   * How long connections may be refused, from the first attempt with no answer at all, before the
   * wait ends: nothing listens there, which waiting the whole timeout would not change. A Kibana
   * that answers slowly is waited for. @defaultValue 5000
   */
  refusedForMs?: number;
}

export interface KibanaStatus {
  version: string;
}

/**
 * Kibana's overall levels in which it serves the saved-objects API. "degraded" is one: a working
 * Kibana can stay there for good (a plugin of no concern here, such as reporting or task manager
 * under load), so waiting for "available" could wait forever. "unavailable" and "critical" are not.
 */
const SERVING_LEVELS = new Set(["available", "degraded"]);

/**
 * Polls `/api/status` until Kibana reports an overall level in which it serves (available or
 * degraded). Connection failures, 503, "unavailable" and "critical" mean "not yet"; 401 and 403
 * will not change by waiting, so they end at once.
 */
export async function waitForKibana(
  connection: Connection,
  options: WaitOptions,
): Promise<Outcome<KibanaStatus>> {
  const deadline = Date.now() + options.timeoutMs;
  const maxDelay = options.maxDelayMs ?? 5000;
  let delay = options.initialDelayMs ?? 250;
  let reason = "no attempt yet";
  let answered = false;
  const refusedUntil = Date.now() + (options.refusedForMs ?? 5000);
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      const response = await send(
        connection,
        "GET",
        "/api/status",
        Math.max(100, Math.min(10_000, remaining)),
      );
      answered = true;
      const refused = refusal(response.status, "when asked for its status");
      if (refused) return { ok: false, message: refused };
      const status = parseJson(response.body) as {
        version?: { number?: string };
        status?: { overall?: { level?: string; summary?: string } };
      };
      const level = status?.status?.overall?.level;
      if (response.status === 200 && level !== undefined && SERVING_LEVELS.has(level))
        return { ok: true, value: { version: status?.version?.number ?? "unknown" } };
      if (response.status === 404)
        return {
          ok: false,
          message: `${connection.kibanaUrl} has no /api/status: is this Kibana's base URL?`,
        };
      reason = level
        ? `status ${level}${status?.status?.overall?.summary ? `: ${status.status.overall.summary}` : ""}`
        : `HTTP ${response.status}${response.status === 200 ? " without Kibana's status document" : ""}`;
    } catch (error) {
      reason = describeFailure(error);
      if (!answered && /ECONNREFUSED/.test(reason) && Date.now() >= refusedUntil)
        return {
          ok: false,
          message: `nothing listens at ${connection.kibanaUrl} (connection refused for ${formatMs(options.refusedForMs ?? 5000)}): is Kibana running, and is this its URL?`,
        };
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      return {
        ok: false,
        message: `Kibana at ${connection.kibanaUrl} was not available within ${formatMs(options.timeoutMs)} (last: ${reason})`,
      };
    }
    const pause = Math.min(delay, maxDelay, left);
    options.onRetry?.(reason, pause);
    await new Promise((r) => setTimeout(r, pause));
    delay = Math.min(delay * 2, maxDelay);
  }
}

export interface ImportedObject {
  type: string;
  id: string;
  title: string | undefined;
}

interface ImportResponse {
  success?: boolean;
  successCount?: number;
  successResults?: Array<{ type: string; id: string; meta?: { title?: string } }>;
  errors?: Array<{
    type: string;
    id: string;
    title?: string;
    meta?: { title?: string };
    error?: { type?: string; message?: string; references?: Array<{ type: string; id: string }> };
  }>;
}

/**
 * POSTs the NDJSON to `_import?overwrite=true`: objects keep their ids, so a second import replaces
 * the first instead of adding copies. Any per-object error fails the whole outcome, listed by object.
 */
export async function importSavedObjects(
  connection: Connection,
  ndjson: string,
  fileName: string,
  timeoutMs = 60_000,
): Promise<Outcome<ImportedObject[]>> {
  const form = new FormData();
  // Kibana only accepts a file part whose name ends in .ndjson.
  form.append("file", new Blob([ndjson], { type: "application/ndjson" }), fileName);
  const encoded = new Request("http://encoder.invalid/", { method: "POST", body: form });
  const body = {
    bytes: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get("content-type") ?? "multipart/form-data",
  };
  let response: HttpResponse;
  try {
    response = await send(connection, "POST", "/api/saved_objects/_import?overwrite=true", timeoutMs, body);
  } catch (error) {
    return { ok: false, message: `the import request failed: ${describeFailure(error)}` };
  }
  const refused = refusal(response.status, "when importing saved objects");
  if (refused) return { ok: false, message: refused };
  const result = parseJson(response.body) as (ImportResponse & { message?: string }) | undefined;
  if (response.status !== 200 || !result) {
    const detail = result?.message ?? response.body.slice(0, 300);
    return { ok: false, message: `Kibana rejected the import with HTTP ${response.status}: ${detail}` };
  }
  const errors = result.errors ?? [];
  if (result.success !== true || errors.length > 0) {
    const lines = errors.map((e) => {
      const title = e.title ?? e.meta?.title;
      const missing = e.error?.references?.map((r) => `${r.type} ${r.id}`).join(", ");
      const why = [e.error?.type ?? "error", e.error?.message, missing ? `missing ${missing}` : undefined]
        .filter(Boolean)
        .join(": ");
      return `  - ${e.type} ${e.id}${title ? ` ("${title}")` : ""}: ${why}`;
    });
    return {
      ok: false,
      message: `Kibana did not import ${errors.length || "all"} of the saved objects:\n${lines.join("\n")}`,
    };
  }
  return {
    ok: true,
    value: (result.successResults ?? []).map((r) => ({ type: r.type, id: r.id, title: r.meta?.title })),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
