import { Type, type Static } from "@sinclair/typebox";
import { Agent, Host } from "./envelope.ts";
import { esTyped, Keyword, Timestamp } from "./fields.ts";

/**
 * The retained payload of `telemetry/v1/<host>/status`: "online" on connect, "offline" on a clean
 * shutdown and, through the Last Will, when the agent dies. `sensors` says which readings this host
 * can produce at all, so a dashboard can tell "no sensor" from "data stopped".
 */
export const StatusMessage = Type.Object(
  {
    "@timestamp": Timestamp(),
    host: Host,
    agent: Agent,
    event: Type.Object(
      { dataset: Type.Literal("telemetry.status", { "x-es-type": "keyword" }) },
      { additionalProperties: false },
    ),
    telemetry: Type.Object(
      {
        status: esTyped(Type.Union([Type.Literal("online"), Type.Literal("offline")]), "keyword"),
        /** Sampling interval, so "not reported within three intervals" can be computed per host. */
        interval: Type.Object(
          { ms: esTyped(Type.Integer({ minimum: 1000 }), "long") },
          { additionalProperties: false },
        ),
        /** Per metric, the sensor it reads or "none" (e.g. temperature on a virtual machine). */
        sensors: Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]*$" }), Keyword({ maxLength: 128 })),
        /** Samples the agent dropped from its offline buffer since it started (oldest first). */
        buffer: Type.Object(
          {
            dropped: esTyped(Type.Integer({ minimum: 0 }), "long"),
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
