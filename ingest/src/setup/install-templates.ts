import { errors, type Client } from "@elastic/elasticsearch";
import type { Logger } from "pino";
import { buildIndexTemplates, type TemplateOptions } from "./index-templates.ts";

/**
 * Puts the index templates. PUT is idempotent, so several instances starting at once all succeed;
 * a cluster that rejects `lifecycle` (no data stream lifecycle) gets the templates without it,
 * logged once.
 */
export async function installTemplates(client: Client, options: TemplateOptions, log: Logger): Promise<void> {
  let templates = buildIndexTemplates(options);
  for (const template of templates) {
    try {
      await client.indices.putIndexTemplate({ name: template.name, ...template.body });
    } catch (error) {
      const lifecycleRejected =
        error instanceof errors.ResponseError &&
        error.statusCode === 400 &&
        /lifecycle/i.test(JSON.stringify(error.body));
      if (!lifecycleRejected || !options.retention) throw error;
      log.warn(
        { event: "retention_unsupported" },
        "this cluster does not take data stream lifecycle; no retention is set",
      );
      templates = buildIndexTemplates({ ...options, retention: undefined });
      return installTemplates(client, { ...options, retention: undefined }, log);
    }
  }
  log.info({ event: "templates_installed", count: templates.length }, "index templates in place");
}
