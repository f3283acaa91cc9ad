import ms from "ms";
import { Type, type TNumber, type NumberOptions } from "@sinclair/typebox";

/** Marks a number schema as a duration: read as "10s", "500ms", "7d" or a bare number of seconds. */
export const DURATION = "x-duration";

/** Bounds of a duration option, written as durations ("1s", "1h") so the table reads as the help does. */
export interface DurationBounds {
  minimum?: string;
  maximum?: string;
}

/** A duration option's schema: the typed config holds milliseconds. */
export function Duration(bounds: DurationBounds = {}, options: NumberOptions = {}): TNumber {
  return Type.Number({
    ...options,
    ...(bounds.minimum === undefined ? {} : { minimum: durationMs(bounds.minimum) }),
    ...(bounds.maximum === undefined ? {} : { maximum: durationMs(bounds.maximum) }),
    [DURATION]: true,
  });
}

/** Whether a schema was built by Duration(). */
export function isDuration(schema: object): boolean {
  return (schema as Record<string, unknown>)[DURATION] === true;
}

const BARE_NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * "10s", "500ms", "1.5h", "7d" → milliseconds; a bare number (or a JSON number) is seconds, so
 * `--interval 5` means what it always did. Undefined when the text is no duration.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.round(value * 1000) : undefined;
  if (BARE_NUMBER.test(value)) return Math.round(Number(value) * 1000);
  // ms() reads "10 s" and "10 seconds" too; a space-free unit keeps flags and env values tidy.
  const parsed = /^-?[\d.]+[a-z]+$/i.test(value.trim()) ? ms(value as ms.StringValue) : undefined;
  return typeof parsed === "number" && Number.isFinite(parsed) ? Math.round(parsed) : undefined;
}

function durationMs(text: string): number {
  const parsed = parseDuration(text);
  if (parsed === undefined) throw new TypeError(`"${text}" is not a duration`);
  return parsed;
}

/** Milliseconds as the shortest exact text: 10000 → "10s", 1500 → "1500ms", 604800000 → "7d". */
export function formatDuration(milliseconds: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (milliseconds !== 0 && milliseconds % size === 0) return `${milliseconds / size}${unit}`;
  return milliseconds === 0 ? "0s" : `${milliseconds}ms`;
}
