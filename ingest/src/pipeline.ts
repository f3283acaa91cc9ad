// telemetry-ingest, wired:
//
//   MQTT (QoS 1, persistent session, optional $share group)
//     │ handleMessage: validate → document or dead letter
//     ▼
//   Staging list in Redis (RPUSH, AOF) ──── PUBACK only after this ────▶ broker forgets the message
//     │ batcher: head of the list → one BullMQ job (idempotent job id) → LTRIM
//     ▼
//   BullMQ queue ──▶ Worker(s) ──▶ Elasticsearch _bulk (create, deterministic _id)
//                                    201/409 done · 429/5xx/403 retry · 400 → dead-letter stream
//
//   Backpressure: staged + queued above the high-water mark → handleMessage waits (no PUBACK, the
//   broker holds the rest) until below the low-water mark.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { Client } from "@elastic/elasticsearch";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { formatDuration } from "@cluster-telemetry/contract/config";
import type { IngestConfig } from "./config/ingest-config.ts";
import { Indexer } from "./indexer/indexer.ts";
import { assertPatchableMqtt } from "./intake/held-acks.ts";
import { Intake } from "./intake/intake.ts";
import { createMetrics, type IngestMetrics } from "./ops/metrics.ts";
import { Backends, isConnectionError } from "./ops/backends.ts";
import { portOf, startHttpServer } from "./ops/http-server.ts";
import { Staging, batchStore } from "./queue/staging.ts";
import { installTemplates } from "./setup/install-templates.ts";

/** How long a stop may take before the ingest gives up on what is in flight. */
export const STOP_GRACE_MS = 10_000;

export interface RunningIngest {
  metrics: IngestMetrics;
  httpPort: number;
  /** Documents staged or queued and not yet indexed. */
  depth: () => Promise<number>;
  /**
   * Stops taking messages, finishes in-flight bulks, leaves the rest queued; at most STOP_GRACE_MS.
   * Past that (Redis or Elasticsearch unreachable), it returns without waiting: what is not in Redis
   * was never acknowledged, so the broker keeps it for the next start.
   */
  stop: () => Promise<void>;
}

export async function startIngest(config: IngestConfig, log: Logger): Promise<RunningIngest> {
  // Before any connection: the intake's PUBACKs depend on one mqtt.js version's internals.
  assertPatchableMqtt();
  const metrics = createMetrics();
  const elasticsearch = new Client({
    node: config.elasticsearchUrl,
    requestTimeout: config.requestTimeoutMs,
    ...(config.elasticsearchApiKey ? { auth: { apiKey: config.elasticsearchApiKey } } : {}),
    ...(config.elasticsearchCaFile ? { tls: { ca: readFileSync(config.elasticsearchCaFile) } } : {}),
    ...(config.elasticsearchFingerprint ? { caFingerprint: config.elasticsearchFingerprint } : {}),
  });
  const backends = new Backends(
    { broker: config.mqttUrl, Redis: config.redisUrl, Elasticsearch: config.elasticsearchUrl },
    log,
  );
  const redisOptions = { maxRetriesPerRequest: null, enableAutoPipelining: true } as const;
  const redis = new Redis(config.redisUrl, redisOptions);
  // ioredis reconnects by itself; one line when Redis goes away and one when it is back.
  redis.on("error", (error) =>
    backends.unreachable("Redis", error, "holding new messages at the broker until it answers"),
  );
  redis.on("ready", () => backends.reachable("Redis"));
  const queueName = `${config.redisPrefix}-bulk-${config.namespace}`;
  const connection = { url: config.redisUrl };
  const queue = new Queue(queueName, {
    connection: new Redis(config.redisUrl, redisOptions),
    // Jobs retry with backoff essentially forever: Elasticsearch being down is a wait, not a loss.
    defaultJobOptions: {
      attempts: 1_000_000,
      backoff: { type: "custom" },
      removeOnComplete: true,
      removeOnFail: false,
    },
  });
  queue.on("error", (error) => redisOrLog(error, "queue_error", "queue error"));
  /** A Redis connection error belongs to the Redis outage already reported; anything else is logged. */
  const redisOrLog = (error: Error, event: string, message: string) => {
    if (isConnectionError(error)) backends.unreachable("Redis", error);
    else log.error({ event, err: error.message }, message);
  };

  const queuedKey = `${config.redisPrefix}:queued-documents:${config.namespace}`;
  const staging = new Staging(
    redis,
    queue,
    {
      key: `${config.redisPrefix}:staging:${config.mqttClientId}`,
      queuedKey,
      batchSize: config.batchSize,
      flushIntervalMs: config.flushIntervalMs,
    },
    (count) => metrics.queued.inc(count),
    (error) => redisOrLog(error, "batch_move_failed", "cannot move a batch into the queue; retrying"),
  );

  const depth = () => staging.depth();
  let lastDepth = 0;
  let paused = false;
  let stopping = false;
  const poll = setInterval(() => {
    depth().then(
      (d) => {
        lastDepth = d;
        metrics.queueDepth.set(d);
        if (!paused && d > config.highWater) {
          paused = true;
          metrics.intakePaused.set(1);
          log.warn(
            { event: "intake_paused", depth: d },
            "queue above the high-water mark; holding new messages at the broker",
          );
        } else if (paused && d < config.lowWater) {
          paused = false;
          metrics.intakePaused.set(0);
          log.info(
            { event: "intake_resumed", depth: d },
            "queue below the low-water mark; taking messages again",
          );
        }
      },
      // Backpressure keeps its last reading; Redis away is the outage Backends already reports.
      (error: Error) => redisOrLog(error, "depth_read_failed", "cannot read the queue depth"),
    );
  }, 250);
  const gate = async () => {
    while (!stopping && (paused || lastDepth > config.highWater))
      await new Promise((r) => setTimeout(r, 100));
  };

  const indexer = new Indexer(elasticsearch, batchStore(redis, queuedKey), config.namespace, metrics, log);
  let worker: Worker | undefined;
  const startWorker = () => {
    worker = new Worker(queueName, (job) => indexer.process(job), {
      connection,
      concurrency: config.concurrency,
      // A job stalls when its worker dies; it must come back, never land in the failed set.
      maxStalledCount: 1_000_000,
      stalledInterval: 15_000,
      settings: {
        backoffStrategy: (attempts: number) => Math.min(60_000, 1000 * 2 ** Math.min(attempts, 10)),
      },
    });
    worker.on("error", (error) => redisOrLog(error, "worker_error", "worker error"));
  };
  // Indexing waits for the templates: a document written before them would create a plain index
  // with guessed mappings instead of the data stream. Messages are staged in Redis meanwhile.
  let templatesReady = !config.installTemplates;
  let templatesRetry: NodeJS.Timeout | undefined;
  const installUntilDone = async (attempt = 0): Promise<void> => {
    if (stopping) return;
    try {
      await installTemplates(
        elasticsearch,
        {
          namespace: config.namespace,
          // Elasticsearch's time units are the kit's: 30d stays 30d.
          retention: config.retentionMs === undefined ? undefined : formatDuration(config.retentionMs),
        },
        log,
      );
      templatesReady = true;
      backends.reachable("Elasticsearch");
      startWorker();
    } catch (error) {
      backends.unreachable(
        "Elasticsearch",
        error,
        "the index templates are installed and indexing starts once it answers; retrying",
      );
      templatesRetry = setTimeout(
        () => void installUntilDone(attempt + 1),
        Math.min(5000, 500 * 2 ** attempt),
      );
    }
  };
  // The first attempt is awaited, so that a healthy start is ready when it says so; later ones run
  // in the background while the rest of the ingest runs.
  if (config.installTemplates) await installUntilDone();
  else {
    log.info({ event: "templates_skipped" }, "index templates are installed by the setup step");
    startWorker();
  }

  staging.start();
  const intake = new Intake(config, {
    store: (documents) => staging.append(documents),
    paused: () => paused || lastDepth > config.highWater,
    gate,
    metrics,
    log,
    backends,
  });
  intake.start();

  const server: Server = await startHttpServer(config.httpPort, metrics.registry, {
    broker: () => intake.connected,
    redis: async () => (await redis.ping()) === "PONG",
    elasticsearch: async () =>
      templatesReady && (await elasticsearch.cluster.health({ timeout: "2s" })).status !== "red",
  });
  log.info(
    {
      event: "ingest_started",
      httpPort: portOf(server),
      namespace: config.namespace,
      waitingFor: backends.unreachableNow(),
    },
    "ingest running",
  );

  return {
    metrics,
    httpPort: portOf(server),
    depth,
    stop: async () => {
      stopping = true;
      clearInterval(poll);
      clearTimeout(templatesRetry);
      const orderly = async () => {
        await intake.stop();
        await staging.stop();
        await worker?.close();
        await queue.close();
        return true;
      };
      const grace = new Promise<false>((r) => setTimeout(() => r(false), STOP_GRACE_MS).unref());
      if (!(await Promise.race([orderly(), grace]))) {
        log.warn(
          { event: "stop_incomplete", waitingFor: backends.unreachableNow(), graceMs: STOP_GRACE_MS },
          `stop did not finish within ${STOP_GRACE_MS / 1000} s (unreachable: ${backends.unreachableNow().join(", ") || "none"}); ` +
            "messages not yet in Redis stay unacknowledged with the broker, queued jobs stay in Redis",
        );
      }
      redis.disconnect();
      await elasticsearch.close();
      await new Promise((r) => server.close(r));
    },
  };
}
