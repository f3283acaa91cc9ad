import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Fleet } from "../state/fleet.ts";
import type { LiveMetrics } from "../ops/metrics.ts";
import { COLUMNS } from "../state/columns.ts";
import { BrowserSession, type View } from "./browser-session.ts";
import type { WireUpdate } from "./wire.ts";

export interface PushHubOptions {
  windowMinutes: number;
  hotCelsius: number;
  /** Says whether the broker connection is up, for the page's banner. */
  brokerConnected: () => boolean;
}

const KEEPALIVE_MS = 15_000;

interface Stream {
  session: BrowserSession;
  response: ServerResponse;
  /** The socket's buffer is full: skip pushes until it drains; the next one catches up. */
  blocked: boolean;
  /** When this stream was last written to, ms. */
  lastWrite: number;
}

/**
 * Server-Sent Events to every open page. Each stream opens with a `hello` event (its session id,
 * the columns, the threshold); then at most one `data` event per push interval, built by the
 * browser's own session from what changed since its last one. A browser that reads slowly is
 * skipped, never queued for: coalescing means it gets the latest state when it is ready.
 */
export class PushHub {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly fleet: Fleet,
    private readonly options: PushHubOptions,
    private readonly metrics: LiveMetrics,
    private readonly log: Logger,
  ) {}

  get browsers(): number {
    return this.streams.size;
  }

  open(request: IncomingMessage, response: ServerResponse): void {
    const session = new BrowserSession(randomUUID());
    const stream: Stream = { session, response, blocked: false, lastWrite: Date.now() };
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    const hello = {
      id: session.id,
      columns: COLUMNS,
      hotCelsius: this.options.hotCelsius,
      windowMinutes: this.options.windowMinutes,
    };
    // retry: the browser reconnects a second after losing us (a restart of this program).
    response.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    response.on("drain", () => (stream.blocked = false));
    this.streams.set(session.id, stream);
    this.metrics.browsers.set(this.streams.size);
    this.log.info({ event: "browser_connected", browsers: this.streams.size }, "browser connected");
    request.on("close", () => {
      this.streams.delete(session.id);
      this.metrics.browsers.set(this.streams.size);
      this.log.info({ event: "browser_disconnected", browsers: this.streams.size }, "browser disconnected");
    });
  }

  /** A browser's new window; answered at once with what that window needs, outside the push rhythm. */
  setView(id: string, view: View): WireUpdate | undefined {
    const stream = this.streams.get(id);
    if (!stream) return undefined;
    stream.session.setView(view);
    return (
      stream.session.update(
        this.fleet,
        this.options.brokerConnected(),
        this.options.windowMinutes,
        Date.now(),
      ) ?? {
        now: Date.now(),
      }
    );
  }

  /** One push to every browser; called once per push interval after the fleet's refresh. */
  push(nowMs: number): void {
    const broker = this.options.brokerConnected();
    for (const stream of this.streams.values()) {
      if (stream.blocked) continue;
      const update = stream.session.update(this.fleet, broker, this.options.windowMinutes, nowMs);
      if (!update) {
        // A comment line now and then keeps proxies from closing a quiet stream, and finds dead ones.
        if (nowMs - stream.lastWrite >= KEEPALIVE_MS) {
          stream.blocked = !stream.response.write(": keepalive\n\n");
          stream.lastWrite = nowMs;
        }
        continue;
      }
      stream.lastWrite = nowMs;
      const text = `data: ${JSON.stringify(update)}\n\n`;
      stream.blocked = !stream.response.write(text);
      this.metrics.updates.inc();
      this.metrics.updateBytes.inc(Buffer.byteLength(text));
    }
  }

  close(): void {
    for (const stream of this.streams.values()) stream.response.end();
    this.streams.clear();
  }
}
