import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianBinary } from "./debian.ts";
import { freePort } from "./free-port.ts";
import { ServiceProcess } from "./service-process.ts";
import { disposeWithTestProcess } from "./cleanup.ts";

export interface RedisOptions {
  /** @defaultValue a free port */
  port?: number;
  /** Data directory (AOF files, log). @defaultValue a new temp dir */
  dir?: string;
  /** `maxmemory`, e.g. "64mb". @defaultValue unlimited */
  maxmemory?: string;
}

/**
 * A Redis with what BullMQ and our acknowledgement rule need: AOF on (a write acknowledged to us
 * is in the kernel before the reply, so a kill -9 of Redis loses nothing) and noeviction (Redis
 * refuses writes when full instead of silently dropping queued jobs).
 */
export class RedisService {
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly process: ServiceProcess,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: RedisOptions = {}): Promise<RedisService> {
    const service = RedisService.prepare(options, await (options.port ?? freePort()));
    disposeWithTestProcess(service.process, options.dir ? undefined : service.dir);
    await service.process.start();
    return service;
  }

  static prepare(options: RedisOptions, port: number): RedisService {
    const binary = ensureDebianBinary("redis-server", "redis-server");
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "telemetry-redis-"));
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
      "--daemonize",
      "no",
    ];
    if (options.maxmemory) args.push("--maxmemory", options.maxmemory);
    const process = new ServiceProcess({
      name: "redis",
      command: binary,
      args,
      logFile: join(dir, "redis.log"),
      port,
      isReady: () => redisPing(port),
    });
    return new RedisService(port, dir, process);
  }

  async restart(): Promise<void> {
    await this.process.stop();
    await this.process.start();
  }
}

/** PING over a raw socket: true once Redis answers PONG (not LOADING). */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.setTimeout(1000);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}
