import { errors, type Client, type estypes } from "@elastic/elasticsearch";
import type { Job } from "bullmq";
import type { Logger } from "pino";
import { sampleTopic } from "@cluster-telemetry/contract";
import { deadLetterDocument, type IndexedDocument } from "../documents.ts";
import type { IngestMetrics } from "../ops/metrics.ts";
import { parseStagedLine, type BatchJob, type BatchStore } from "../queue/staging.ts";
import { classifyBulkItems, retryDelay } from "./bulk-outcome.ts";

/** The `_bulk` body: a `create` action with the deterministic id, then the source, per document. */
export function bulkBody(documents: IndexedDocument[]): string {
  let body = "";
  for (const d of documents) body += `{"create":{"_index":"${d.index}","_id":"${d.id}"}}\n${d.source}\n`;
  return body;
}

function hostOf(source: string): string | undefined {
  try {
    return (JSON.parse(source) as { host?: { name?: string } }).host?.name;
  } catch {
    return undefined;
  }
}

/**
 * A request-level refusal that no retry of the same request can change: every 4xx but the ones
 * that say "later" (408, 429) or "not you, the credentials" (401, 403).
 */
function refusedAsAWhole(status: number): boolean {
  return status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
}

interface RefusalBody {
  error?: { type?: string; reason?: string };
}

/** Retry rounds inside one job before it is handed back to BullMQ to retry later. */
const ROUNDS_PER_ATTEMPT = 6;

export class RetryLater extends Error {
  constructor(
    readonly pending: number,
    cause?: unknown,
  ) {
    super(`${pending} documents not yet accepted by Elasticsearch; the job will be retried`, { cause });
    this.name = "RetryLater";
  }
}

/**
 * Indexes one job's documents with `create` and settles every item: accepted, duplicate (done),
 * retried with backoff, or dead-lettered with Elasticsearch's reason. The job completes only when
 * every item is settled; otherwise it throws and BullMQ retries it (nothing ends in the failed set).
 */
export class Indexer {
  constructor(
    private readonly client: Client,
    private readonly batches: BatchStore,
    private readonly namespace: string,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
  ) {}

  async process(job: Job<BatchJob>): Promise<void> {
    // An empty read: a worker settled this batch and died before completing the job.
    const lines = await this.batches.read(job.data.batch);
    await this.settle(lines.map(parseStagedLine));
    await this.batches.remove(job.data.batch);
  }

  async settle(initial: IndexedDocument[]): Promise<void> {
    let pending = initial;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= ROUNDS_PER_ATTEMPT) throw new RetryLater(pending.length);
      if (round > 0) await new Promise((r) => setTimeout(r, retryDelay(round - 1)));
      pending = await this.attempt(pending);
      if (pending.length > 0) this.metrics.retries.inc(pending.length);
    }
  }

  /** One bulk request; returns what must go again (retryable items and new dead letters). */
  private async attempt(documents: IndexedDocument[]): Promise<IndexedDocument[]> {
    const end = this.metrics.bulkLatency.startTimer();
    this.metrics.bulkDocuments.observe(documents.length);
    let items;
    try {
      const response = await this.client.bulk({
        // NDJSON built from the staged text: the client sends a string body as it is.
        operations: bulkBody(documents) as unknown as estypes.BulkOperationContainer[],
        // Only what settling needs: a fraction of the response to generate, send and parse.
        filter_path: "errors,items.*.status,items.*.error",
      });
      items = response.items.map((item) => item.create ?? Object.values(item)[0]!);
    } catch (error) {
      const status = error instanceof errors.ResponseError ? error.statusCode : undefined;
      if (status !== undefined && refusedAsAWhole(status)) {
        if (documents.length > 1) {
          // One document can make Elasticsearch refuse the whole request (a line that breaks the
          // NDJSON framing, a body too large): halve until the one at fault stands alone.
          const half = Math.ceil(documents.length / 2);
          return [
            ...(await this.attempt(documents.slice(0, half))),
            ...(await this.attempt(documents.slice(half))),
          ];
        }
        const refusal = (error as errors.ResponseError).body as RefusalBody | undefined;
        return this.deadLetter([
          {
            document: documents[0]!,
            type: refusal?.error?.type ?? `http_${status}`,
            reason: refusal?.error?.reason ?? `status ${status}`,
          },
        ]);
      }
      this.log.warn(
        { event: "bulk_failed", documents: documents.length, status, err: (error as Error).message },
        "bulk request to Elasticsearch failed; will retry",
      );
      return documents;
    } finally {
      end();
    }
    const outcome = classifyBulkItems(items);
    const indexedNow = outcome.accepted.length - outcome.duplicates.length;
    this.metrics.indexed.inc(indexedNow);
    this.metrics.duplicates.inc(outcome.duplicates.length);
    const deadLetters = new Set(
      outcome.accepted.filter((i) => documents[i]!.index.startsWith("logs-telemetry.deadletter-")),
    );
    if (deadLetters.size > 0) this.metrics.deadLettered.inc(deadLetters.size);
    const rejected = outcome.rejected.map(({ position, type, reason }) => ({
      document: documents[position]!,
      type,
      reason,
    }));
    return [...outcome.retry.map((i) => documents[i]!), ...this.deadLetter(rejected)];
  }

  /** Dead letters for what Elasticsearch refused, with its reason; a refused dead letter is dropped. */
  private deadLetter(
    refused: Array<{ document: IndexedDocument; type: string; reason: string }>,
  ): IndexedDocument[] {
    const next: IndexedDocument[] = [];
    for (const { document, type, reason } of refused) {
      if (document.index.startsWith("logs-telemetry.deadletter-")) {
        this.metrics.deadLettersDropped.inc();
        this.log.error(
          { event: "dead_letter_rejected", type, reason },
          "Elasticsearch rejected a dead letter; dropped",
        );
        continue;
      }
      this.log.warn(
        { event: "document_rejected", index: document.index, type, reason },
        "Elasticsearch rejected a document; dead-lettering it",
      );
      const host = hostOf(document.source);
      const topic = sampleTopic(host ?? "unknown", String(document.index.split(".")[1]?.split("-")[0]));
      next.push(
        deadLetterDocument(
          topic,
          document.source,
          `elasticsearch_rejected: ${type}: ${reason}`,
          this.namespace,
          host,
          "elasticsearch_rejected",
        ),
      );
    }
    return next;
  }
}
