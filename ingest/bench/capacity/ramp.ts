import { cpus } from "node:os";
import { drained, simulate, sleep } from "../rig.ts";
import type { CapacityRun } from "./capacity-run.ts";
import { measureWindow, type Pids, type Window } from "./measurement.ts";

/** One step of the ramp: a fleet of `hosts` for a step's length, and whether the pipeline kept up. */
export interface Step {
  hosts: number;
  /** Messages/s the broker acknowledged to the fleet. */
  offered: number;
  /** Messages/s the ingest received in the measured window. */
  received: number;
  /** Documents/s indexed in the measured window. */
  indexed: number;
  keptUp: boolean;
  /** What fell behind first, empty when the step kept up. */
  why: string;
  window: Window;
  /** The load generator's own limit, as it reports it. */
  limit: string;
  /** Each process's share of the machine's cores during the window. */
  cores: string;
}

export interface Ramp {
  /** Every step, by fleet size. */
  steps: Step[];
  /** The largest step that kept up (the first step when none did). */
  best: Step;
  /** The first step that did not keep up, if any. */
  saturated: Step | undefined;
  /** Documents/s the whole pipeline carried at the best step. */
  sustained: number;
}

/**
 * Longest a kept-up step may take to index what is left once its fleet stops: the flush interval,
 * a bulk and the 1 s refresh, with room for a merge.
 */
const DRAIN_LIMIT_SECONDS = 5;

/**
 * Doubles the fleet from `startHosts` until the pipeline falls behind, then tries once halfway
 * between the last step that kept up and the first that did not (doubling overshoots by up to 2×).
 * Every step must end with everything acknowledged indexed; `acknowledged` counts what the broker
 * acknowledged to publishers, across the whole run.
 */
export async function rampUntilBehind(
  { s, run, namespace }: CapacityRun,
  metricsUrl: string,
  pids: Pids,
  options: { stepSeconds: number; startHosts: number; maxHosts: number },
  acknowledged: { count: number },
): Promise<Ramp> {
  const { stepSeconds } = options;
  const steps: Step[] = [];
  const rampStep = async (hosts: number): Promise<Step> => {
    const fleet = simulate(s.broker.url, {
      hosts,
      seconds: stepSeconds,
      prefix: `r${hosts}-${run}`,
      seed: hosts,
    });
    pids.simulator = fleet.child.pid;
    await sleep(4000); // connections up, first intervals out
    const window = await measureWindow(s, metricsUrl, pids, stepSeconds - 7);
    const summary = await fleet.summary;
    delete pids.simulator;
    acknowledged.count += summary.ackedDocuments;
    const offered = summary.ackedPerSecond;
    const received = window.received / window.seconds;
    const indexed = window.indexed / window.seconds;
    const busy = Object.entries(window.cpu)
      .map(([name, cpu]) => [name, cpu / window.seconds] as const)
      .sort((a, b) => b[1] - a[1]);
    const total = busy.reduce((n, [, c]) => n + c, 0);
    const cores = `${busy.map(([name, c]) => `${name} ${Math.round(c * 100)}%`).join(", ")} of ${cpus().length} cores`;
    // A short window can miss a backlog building up behind Elasticsearch's merges; what is left to
    // index once the fleet has stopped cannot hide.
    const stopped = performance.now();
    const count = await drained(s, metricsUrl, namespace, acknowledged.count);
    if (count !== acknowledged.count)
      throw new Error(`after step ${hosts}: ${count} documents indexed, ${acknowledged.count} acknowledged`);
    const drainSeconds = (performance.now() - stopped) / 1000;
    const behind =
      summary.limit.startsWith("nothing") === false ||
      received < offered * 0.95 ||
      window.depthGrowth > received ||
      drainSeconds > DRAIN_LIMIT_SECONDS;
    const why = !behind
      ? ""
      : total > cpus().length * 0.9
        ? `the machine's CPU (${cores})`
        : summary.limit.startsWith("nothing") === false
          ? `the load generator: ${summary.limit}`
          : received < offered * 0.95
            ? `intake: the ingest received ${Math.round(received)}/s of ${Math.round(offered)}/s published (broker queue growing)`
            : window.depthGrowth > received
              ? `indexing: the queue grew by ${Math.round(window.depthGrowth)} documents (Elasticsearch bulk slower than intake)`
              : drainSeconds > DRAIN_LIMIT_SECONDS
                ? `indexing: ${drainSeconds.toFixed(0)} s to index the backlog once the fleet stopped (Elasticsearch behind the intake)`
                : "";
    steps.push({
      hosts,
      offered,
      received,
      indexed,
      keptUp: why === "",
      why,
      window,
      limit: summary.limit,
      cores,
    });
    console.log(
      `step ${hosts} hosts: published ${Math.round(offered)}/s, ingest received ${Math.round(received)}/s, indexed ${Math.round(indexed)}/s, backlog indexed ${drainSeconds.toFixed(1)} s after the fleet stopped${why ? ` — behind: ${why}` : ""}`,
    );
    return steps.at(-1)!;
  };
  for (let hosts = options.startHosts; hosts <= options.maxHosts; hosts *= 2)
    if (!(await rampStep(hosts)).keptUp) break;
  const lastKept = steps.filter((x) => x.keptUp).at(-1);
  const firstBehind = steps.find((x) => !x.keptUp);
  if (lastKept && firstBehind) await rampStep(Math.round((lastKept.hosts + firstBehind.hosts) / 2));
  steps.sort((a, b) => a.hosts - b.hosts);
  const best = steps.filter((x) => x.keptUp).at(-1) ?? steps[0]!;
  return {
    steps,
    best,
    saturated: steps.find((x) => !x.keptUp),
    // What the whole pipeline carried: a window can index a little of what arrived before it.
    sustained: Math.min(best.received, best.indexed),
  };
}
