import { Type, type TString, type TUnion, type TLiteral, type TInteger } from "@sinclair/typebox";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
type Level = (typeof LEVELS)[number];

/** pino's levels, and "silent" where a program may be told to say nothing. */
export function LogLevel(): TUnion<TLiteral<Level>[]>;
export function LogLevel(options: { silent: true }): TUnion<TLiteral<Level | "silent">[]>;
export function LogLevel(options: { silent?: boolean } = {}): TUnion<TLiteral<string>[]> {
  return Type.Union([...LEVELS, ...(options.silent ? ["silent"] : [])].map((l) => Type.Literal(l)));
}

/** A URL with one of the schemes given, e.g. Url("mqtt", "mqtts"). */
export function Url(...schemes: string[]): TString {
  return Type.String({ pattern: `^(${schemes.join("|")})://[^\\s/?#]+(/\\S*)?$` });
}

/** What a URL option says when its value is none of those schemes. */
export const urlInvalid = (...schemes: string[]) =>
  `must be a URL starting with ${schemes.map((s) => `${s}://`).join(", ")}`;

/** A TCP port; 0 picks a free one. */
export const Port = (): TInteger => Type.Integer({ minimum: 0, maximum: 65_535 });

/** A data stream namespace as Elasticsearch accepts it. */
export const Namespace = (): TString => Type.String({ pattern: "^[a-z0-9][a-z0-9_]*$" });
export const NAMESPACE_INVALID = "must be lower-case letters, digits and _";
