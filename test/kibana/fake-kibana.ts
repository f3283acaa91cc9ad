import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** One request as the fake received it, the multipart file already decoded. */
export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  file?: { name: string; text: string };
}

export interface ImportError {
  type: string;
  id: string;
  title?: string;
  error: { type: string; message?: string; references?: Array<{ type: string; id: string }> };
}

export interface FakeKibanaOptions {
  /** HTTP status of the first /api/status answers; afterwards 200 and `level`. */
  notReady?: number[];
  /** The overall level once ready. @defaultValue "available" */
  level?: "available" | "degraded";
  /** When set, every request must carry exactly this Authorization header, else 401. */
  authorization?: string;
  /** Errors to report for the import instead of storing the objects. */
  importErrors?: ImportError[];
  tls?: { certificate: string; privateKey: string };
}

/**
 * A stand-in for Kibana's status and saved-objects import API on a free port, speaking the shapes
 * Kibana 9 answers with. Imported objects land in `stored` by type and id, with overwrite rules.
 */
export class FakeKibana {
  readonly requests: ReceivedRequest[] = [];
  readonly stored = new Map<string, Record<string, unknown>>();
  private readonly notReady: number[];

  private constructor(
    private readonly server: ReturnType<typeof createHttpServer>,
    readonly url: string,
    private readonly options: FakeKibanaOptions,
  ) {
    this.notReady = [...(options.notReady ?? [])];
  }

  static async start(options: FakeKibanaOptions = {}): Promise<FakeKibana> {
    // The handler exists before the instance it serves, which needs the server's port.
    const self: { fake?: FakeKibana } = {};
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      self.fake!.handle(req, res).catch((error: unknown) => {
        res.writeHead(500).end(JSON.stringify({ message: (error as Error).message }));
      });
    };
    const server = options.tls
      ? createHttpsServer({ cert: options.tls.certificate, key: options.tls.privateKey }, handler)
      : createHttpServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self.fake = new FakeKibana(server, `${options.tls ? "https" : "http"}://127.0.0.1:${port}`, options);
    return self.fake;
  }

  statusRequests(): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === "/api/status");
  }

  importRequests(): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === "/api/saved_objects/_import");
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://kibana");
    const received: ReceivedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    };
    this.requests.push(received);
    const answer = (status: number, payload: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
    };

    if (this.options.authorization && req.headers.authorization !== this.options.authorization) {
      return answer(401, { statusCode: 401, error: "Unauthorized", message: "Unauthorized" });
    }
    if (url.pathname === "/api/status" && req.method === "GET") {
      const early = this.notReady.shift();
      if (early !== undefined) {
        return answer(early, {
          status: { overall: { level: "unavailable", summary: "Elasticsearch is not reachable" } },
        });
      }
      return answer(200, {
        name: "kibana",
        version: { number: "9.5.3" },
        status: {
          overall:
            this.options.level === "degraded"
              ? { level: "degraded", summary: "1 service is degraded: reporting" }
              : { level: "available", summary: "All services are available" },
        },
      });
    }
    if (url.pathname === "/api/saved_objects/_import" && req.method === "POST") {
      if (req.headers["kbn-xsrf"] === undefined) {
        return answer(400, {
          statusCode: 400,
          error: "Bad Request",
          message: "Request must contain a kbn-xsrf header.",
        });
      }
      const form = await new Request("http://kibana/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body,
      }).formData();
      const file = form.get("file");
      if (!(file instanceof File))
        return answer(400, { statusCode: 400, message: "[file]: expected a file" });
      received.file = { name: file.name, text: await file.text() };
      if (!file.name.endsWith(".ndjson"))
        return answer(400, { message: `Invalid file extension ${file.name}` });
      return answer(
        200,
        this.importObjects(received.file.text, url.searchParams.get("overwrite") === "true"),
      );
    }
    return answer(404, { statusCode: 404, error: "Not Found", message: "Not Found" });
  }

  private importObjects(ndjson: string, overwrite: boolean) {
    const objects = ndjson
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((o) => o.exportedCount === undefined) as Array<{
      type: string;
      id: string;
      attributes: { title?: string };
    }>;
    const errors: ImportError[] = [...(this.options.importErrors ?? [])];
    for (const o of objects) {
      if (this.stored.has(`${o.type}:${o.id}`) && !overwrite)
        errors.push({ type: o.type, id: o.id, title: o.attributes.title, error: { type: "conflict" } });
    }
    if (errors.length > 0) return { success: false, successCount: 0, errors, warnings: [] };
    for (const o of objects) this.stored.set(`${o.type}:${o.id}`, o);
    return {
      success: true,
      successCount: objects.length,
      successResults: objects.map((o) => ({
        type: o.type,
        id: o.id,
        meta: { title: o.attributes.title, icon: o.type },
        ...(overwrite ? { overwrite: true } : {}),
      })),
      warnings: [],
    };
  }
}
