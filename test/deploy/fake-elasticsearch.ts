import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface Recorded {
  method: string;
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for Elasticsearch's security and template APIs: records what the setup step asks for,
 * with which credentials, and answers like Elasticsearch does.
 */
export function fakeElasticsearch(options: { keyServes: () => boolean }) {
  const requests: Recorded[] = [];
  let keys = 0;
  // The role descriptors each key was created with, as GET /_security/api_key returns them.
  const descriptors = new Map<string, unknown>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      const record = {
        method: req.method ?? "",
        path,
        authorization: req.headers.authorization ?? "",
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(record);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
        res.end(JSON.stringify(body));
      };
      if (path === "/_cluster/health") return reply(200, { status: "green" });
      if (/^\/_security\/user\/kibana_system\/_password$/.test(path)) return reply(200, {});
      if (path.startsWith("/_security/role/")) return reply(200, { role: { created: true } });
      if (path === "/_security/api_key" && (req.method === "POST" || req.method === "PUT")) {
        keys += 1;
        const id = `key-${keys}`;
        const secret = `secret-${keys}-${Math.random().toString(36).slice(2)}`;
        const encoded = Buffer.from(`${id}:${secret}`).toString("base64");
        descriptors.set(id, record.body.role_descriptors);
        return reply(200, { id, name: record.body.name, api_key: secret, encoded });
      }
      if (path === "/_security/api_key" && req.method === "GET") {
        const id = new URL(req.url ?? "", "http://x").searchParams.get("id") ?? "";
        return reply(200, { api_keys: [{ id, role_descriptors: descriptors.get(id) ?? {} }] });
      }
      if (path === "/_security/api_key" && req.method === "DELETE")
        return reply(200, { invalidated_api_keys: record.body.ids, previously_invalidated_api_keys: [] });
      if (path === "/_security/user/_has_privileges")
        return reply(200, { has_all_requested: options.keyServes(), cluster: {}, index: {} });
      if (path.startsWith("/_index_template/")) return reply(200, { acknowledged: true });
      reply(404, { error: `unexpected ${req.method} ${path}` });
    });
  });
  return { server, requests, descriptors };
}
