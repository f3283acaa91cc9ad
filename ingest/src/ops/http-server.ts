import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Readiness {
  broker: () => boolean;
  redis: () => Promise<boolean>;
  elasticsearch: () => Promise<boolean>;
}

/** GET /healthz (alive), /readyz (broker, Redis and Elasticsearch reachable), /metrics (Prometheus). */
export async function startHttpServer(
  port: number,
  registry: Registry,
  readiness: Readiness,
): Promise<Server> {
  const server = createServer((request, response) => {
    const route = request.url?.split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405).end();
      return;
    }
    if (route === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (route === "/readyz") {
      void Promise.all([
        readiness.broker(),
        withinTimeout(readiness.redis()),
        withinTimeout(readiness.elasticsearch()),
      ]).then(([broker, redis, elasticsearch]) => {
        const body = JSON.stringify({ broker, redis, elasticsearch });
        response
          .writeHead(broker && redis && elasticsearch ? 200 : 503, { "content-type": "application/json" })
          .end(body);
      });
    } else if (route === "/metrics") {
      void registry
        .metrics()
        .then((text) => response.writeHead(200, { "content-type": registry.contentType }).end(text));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`the HTTP port ${port} (--http-port, INGEST_HTTP_PORT) is already in use`)
          : error,
      ),
    );
    server.listen(port, resolve);
  });
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** A probe that does not answer in time counts as unreachable: clients of ours retry forever. */
function withinTimeout(probe: Promise<boolean>, ms = 2000): Promise<boolean> {
  return Promise.race([
    probe.catch(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
  ]);
}
