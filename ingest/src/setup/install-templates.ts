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
      const reason = refusalReason(error);
      log.warn(
        { event: "retention_unsupported", setting: "lifecycle.data_retention", reason },
        `Elasticsearch refused the index template setting lifecycle.data_retention: "${options.retention}" (${reason}); ` +
          "the templates are installed without retention",
      );
      templates = buildIndexTemplates({ ...options, retention: undefined });
      return installTemplates(client, { ...options, retention: undefined }, log);
    }
  }
  log.info({ event: "templates_installed", count: templates.length }, "index templates in place");
}

/** Elasticsearch's own words for a refusal: the innermost cause's reason (the outer ones say "failed to parse"). */
function refusalReason(error: errors.ResponseError): string {
  interface Cause {
    reason?: string;
    type?: string;
    caused_by?: Cause;
  }
  let cause = (error.body as { error?: Cause } | undefined)?.error;
  while (cause?.caused_by) cause = cause.caused_by;
  return cause?.reason ?? cause?.type ?? error.message;
}
