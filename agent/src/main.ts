// telemetry-agent: collectors → sampler → bounded buffer → MQTT (QoS 1), with a retained status.
//
//   collectors (cpu, load, temperature, memory)
//        │ one timer each
//        ▼
//   Sampler ── schema check, size cap ──▶ OfflineBuffer (bounded, drops oldest) ──▶ Publisher ──▶ broker
//                                                                         status + Last Will ──┘
import { createCollectors } from "./collectors/index.ts";
import { loadAgentConfigFromProcess, metricsOf, type AgentConfig } from "./config/agent-config.ts";
import { configuredOrExit } from "@cluster-telemetry/contract/config";
import { loadSimulationConfigFromProcess } from "./config/simulate-config.ts";
import { createLogger } from "./logging.ts";
import { DiskSpool } from "./publish/disk-spool.ts";
import { Publisher } from "./publish/publisher.ts";
import { readMachineId } from "./sampling/machine-id.ts";
import { Sampler } from "./sampling/sampler.ts";
import { runSimulation } from "./simulate/run.ts";

/** The disk spool's fsync policy: one write and fsync per sampling round, at most 1 s after it. */
const SPOOL_FLUSH_MS = 1000;

async function main(): Promise<void> {
  if (process.argv[2] === "simulate") {
    await runSimulation(configuredOrExit("telemetry-agent", loadSimulationConfigFromProcess));
    process.exit(0);
  }
  const config: AgentConfig = configuredOrExit("telemetry-agent", loadAgentConfigFromProcess);
  const log = createLogger(config.logLevel);
  const collectors = createCollectors(
    { procRoot: config.procRoot, sysRoot: config.sysRoot, log },
    metricsOf(config),
  );
  const machine = readMachineId(config.etcRoot);
  if (machine.id === undefined)
    log.info(
      { event: "machine_id_absent", reason: machine.absent },
      "no machine id; samples carry no host.id",
    );
  const sampler = new Sampler(
    collectors,
    {
      host: config.host,
      hostId: machine.id,
      intervalMs: config.intervalMs,
      jitterMs: config.jitterMs,
      checkSchema: config.once,
    },
    (message) => publisher.enqueue(message),
    log,
  );
  // Written only while the broker is unreachable, fsynced at most a second after each sample.
  const spool =
    config.spoolDir && !config.once
      ? new DiskSpool({
          dir: config.spoolDir,
          maxBytes: config.spoolMaxBytes,
          flushMs: SPOOL_FLUSH_MS,
          memory: { maxMessages: config.bufferMaxMessages, maxBytes: config.bufferMaxBytes },
          onError: (what, error) =>
            log.error({ event: "spool_error", what, err: error.message }, "disk spool: cannot " + what),
        })
      : undefined;
  const publisher: Publisher = new Publisher(
    config,
    (state) => sampler.status(state, publisher.buffer.dropped),
    log,
    spool,
  );
  await sampler.prepare();

  if (config.once) {
    // `--once | head -1`: a reader that has what it wanted closes the pipe; that ends us quietly.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
    // CPU needs an interval to measure over; a short one is enough for a one-off look.
    await new Promise((r) => setTimeout(r, 250));
    for (const collector of collectors) {
      for (const message of await sampler.sample(collector))
        process.stdout.write(
          `${JSON.stringify({ topic: message.topic, payload: JSON.parse(message.payload.toString()) })}\n`,
        );
    }
    return;
  }

  publisher.start();
  sampler.start();
  log.info({ event: "agent_started", host: config.host, intervalMs: config.intervalMs }, "sampling");

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "agent_stopping", signal }, "stopping");
    sampler.stop();
    void publisher.stop().then(() => {
      // What the broker did not take by now waits on disk for the next start.
      spool?.flush();
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`telemetry-agent: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
