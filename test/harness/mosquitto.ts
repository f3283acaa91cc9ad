import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { ensureDebianBinary } from "./debian.ts";
import { freePort, isListening } from "./free-port.ts";
import { ServiceProcess } from "./service-process.ts";
import { disposeWithTestProcess } from "./cleanup.ts";

export interface MosquittoOptions {
  /** Port of the plain listener on 127.0.0.1. @defaultValue a free port */
  port?: number;
  /** Working directory (config, persistence, log). @defaultValue a new temp dir */
  dir?: string;
  /**
   * Replaces the default plain anonymous listener. Write complete `listener` blocks; the port of
   * the first listener is what readiness waits for, so pass it as `port` too.
   */
  listeners?: string;
  /** Appended to the generated config, for tests that need more (limits, ACL files). */
  extraConfig?: string;
  /** A complete configuration that replaces the generated one (e.g. the deployment's, rewritten). */
  config?: string;
  /**
   * "every-change" (default): the store is saved after every change, so a kill -9 loses nothing the
   * broker acknowledged, at the price of a full store write per message. "periodic": every 2 s at
   * most and on shutdown, as deploy/mosquitto runs it; for measuring throughput.
   */
  persistence?: "every-change" | "periodic";
}

/**
 * A Mosquitto broker configured the way a telemetry broker should be: persistent sessions survive
 * a restart and a kill -9, and the queue per offline subscriber holds minutes of fleet traffic.
 */
export class MosquittoService {
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly process: ServiceProcess,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(options: MosquittoOptions = {}): Promise<MosquittoService> {
    const service = MosquittoService.prepare(options, await (options.port ?? freePort()));
    disposeWithTestProcess(service.process, options.dir ? undefined : service.dir);
    await service.process.start();
    return service;
  }

  static prepare(options: MosquittoOptions, port: number): MosquittoService {
    const binary = ensureDebianBinary("mosquitto", "mosquitto");
    ensureDebianBinary("mosquitto_sub", "mosquitto-clients");
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "telemetry-mosquitto-"));
    mkdirSync(join(dir, "data"), { recursive: true });
    const configFile = join(dir, "mosquitto.conf");
    writeFileSync(configFile, options.config ?? mosquittoConfig(dir, port, options));
    const process = new ServiceProcess({
      name: "mosquitto",
      command: binary,
      args: ["-c", configFile],
      logFile: join(dir, "mosquitto.log"),
      port,
      isReady: () => isListening(port),
    });
    return new MosquittoService(port, dir, process);
  }

  async restart(): Promise<void> {
    await this.process.stop();
    await this.process.start();
  }
}

export function mosquittoConfig(dir: string, port: number, options: MosquittoOptions): string {
  const listeners = options.listeners ?? `listener ${port} 127.0.0.1\nallow_anonymous true\n`;
  return `# Written by the test harness.
# Run as the invoking user: as root Mosquitto would switch to "mosquitto", who cannot write here.
user ${userInfo().username}
per_listener_settings ${options.listeners ? "true" : "false"}
${listeners}
# Persistent sessions: keep what offline QoS 1 subscribers have not received, across restarts.
persistence true
persistence_location ${join(dir, "data")}/
${
  options.persistence === "periodic"
    ? "autosave_interval 1"
    : "# Saved on every change, so that a kill -9 loses nothing that was acknowledged to a publisher.\nautosave_on_changes true\nautosave_interval 1"
}
# The defaults (1000 messages) would drop fleet traffic during an ingest outage of a few seconds.
max_queued_messages 1000000
max_queued_bytes 0
# Lets a subscriber hold many QoS 1 messages unacknowledged (the ingest acknowledges in batches).
max_inflight_messages 1000
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
${options.extraConfig ?? ""}
`;
}
