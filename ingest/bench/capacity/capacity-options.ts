import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "../rig.ts";

/** bench:capacity's command line. Durations in seconds. */
export interface CapacityOptions {
  /** Length of each ramp step. @defaultValue 20 */
  stepSeconds: number;
  /** Fleet size of the first ramp step; each next step doubles it. @defaultValue 500 */
  startHosts: number;
  /** The ramp stops past this many hosts. @defaultValue 32000 */
  maxHosts: number;
  /** Documents bulk-loaded to warm Elasticsearch's JIT before anything is measured. @defaultValue 400000 */
  warmupDocs: number;
  /** Fleet seconds of each pipeline run in the efficiency pairs. @defaultValue 30 */
  pairSeconds: number;
  /** Efficiency pairs (pipeline, direct), alternating which goes first. @defaultValue 4 */
  rounds: number;
  /** Length of each latency measurement. @defaultValue 25 */
  latencySeconds: number;
  /** Documents loaded to measure disk per document. @defaultValue 200000 */
  diskDocs: number;
  /** Where the report is written. @defaultValue ingest/docs/capacity-results.md */
  out: string;
}

export const CAPACITY_USAGE = `npm run bench:capacity [-- --step-seconds 20 --start-hosts 500 --max-hosts 32000 --warmup-docs 400000
                          --pair-seconds 30 --rounds 4 --latency-seconds 25 --disk-docs 200000 --out <file>]`;

export function parseCapacityArgs(args: string[]): CapacityOptions {
  const { values } = parseArgs({
    args,
    options: {
      "step-seconds": { type: "string", default: "20" },
      "start-hosts": { type: "string", default: "500" },
      "max-hosts": { type: "string", default: "32000" },
      "warmup-docs": { type: "string", default: "400000" },
      "pair-seconds": { type: "string", default: "30" },
      rounds: { type: "string", default: "4" },
      "latency-seconds": { type: "string", default: "25" },
      "disk-docs": { type: "string", default: "200000" },
      out: { type: "string", default: join(root, "ingest", "docs", "capacity-results.md") },
    },
  });
  const number = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(
        `bench:capacity: --${name} must be a number ≥ 0, not "${values[name]}"\n${CAPACITY_USAGE}`,
      );
    return value;
  };
  return {
    stepSeconds: number("step-seconds"),
    startHosts: number("start-hosts"),
    maxHosts: number("max-hosts"),
    warmupDocs: number("warmup-docs"),
    pairSeconds: number("pair-seconds"),
    rounds: number("rounds"),
    latencySeconds: number("latency-seconds"),
    diskDocs: number("disk-docs"),
    out: values.out!,
  };
}
