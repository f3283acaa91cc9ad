import { Type, type Static } from "@sinclair/typebox";
import { Agent, Host, eventOf } from "./envelope.ts";
import { esTyped, Keyword, Long, Millis, Timestamp } from "./fields.ts";
import { METRIC_NAMES } from "./metrics.ts";

/**
 * The retained payload of `telemetry/v2/<host>/status`: "online" on connect, "offline" on a clean
 * shutdown and, through the Last Will, when the agent dies. `sensors` says which readings this host
 * can produce at all, so a dashboard can tell "no sensor" from "data stopped".
 */
export const StatusMessage = Type.Object(
  {
    "@timestamp": Timestamp(),
    host: Host,
    agent: Agent,
    event: eventOf("telemetry.status"),
    telemetry: Type.Object(
      {
        status: esTyped(
          Type.Union([Type.Literal("online"), Type.Literal("offline")], {
            description: "`online` or `offline`",
          }),
          "keyword",
        ),
        /** Sampling interval, so "not reported within three intervals" can be computed per host. */
        interval: Type.Object(
          { ms: Millis({ minimum: 1000, description: "the agent's sampling interval" }) },
          { additionalProperties: false },
        ),
        /** Per metric, the sensor it reads or "none" (e.g. temperature on a virtual machine). */
        // Closed: its keys are the contract's metric names, so one host cannot add fields to the
        // status stream's mapping (an open record let a single node fill the index's field limit).
        sensors: Type.Object(
          Object.fromEntries(METRIC_NAMES.map((m) => [m, Type.Optional(Keyword({ maxLength: 128 }))])),
          {
            additionalProperties: false,
            description: "per metric, the sensor it reads, or `none` (a VM has `temperature: none`)",
          },
        ),
        /** Samples the agent dropped from its offline buffer since it started (oldest first). */
        buffer: Type.Object(
          {
            // A counter: it only grows while the agent runs, and restarts from 0 with it.
            dropped: Long(
              { description: "samples dropped from the agent's offline buffer since it started" },
              "counter",
            ),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type StatusMessage = Static<typeof StatusMessage>;
