// The floor under the CPU per message outside Elasticsearch, for bench:capacity: the sustained
// step's fleet into the same broker with, in place of the ingest, a subscriber that does nothing
// but acknowledge (acknowledge-only.ts). No Redis or Elasticsearch work at all, so what the broker
// and that subscriber spend per message is more than any part of the target is left for.
import mqtt from "mqtt";
import { spawnProgram, waitFor } from "@cluster-telemetry/dev-stack";
import { cpuSeconds, cpuSplit, simulate, sleep, type Services } from "./rig.ts";

export interface FloorOptions {
  hosts: number;
  /** Length of the fleet's run; the first 4 s and the last 3 s are not measured. */
  seconds: number;
  /**
   * The pipeline's client id: its persistent session is removed first, so the broker forwards each
   * message once, as in the ramp.
   */
  pipelineClientId: string;
  /** Client id of the subscriber and prefix of the fleet's host names. */
  name: string;
}

export interface Floor {
  /** CPU µs per message of the broker, and the part of it spent in the kernel. */
  broker: number;
  brokerKernel: number;
  /** CPU µs per message of the acknowledge-only subscriber. */
  subscriber: number;
  total: number;
}

export async function acknowledgeOnlyFloor(s: Services, options: FloorOptions): Promise<Floor> {
  const clear = await mqtt.connectAsync(s.broker.url, {
    clientId: options.pipelineClientId,
    clean: true,
    protocolVersion: 5,
  });
  await clear.endAsync();
  const acknowledger = spawnProgram("ingest/bench/acknowledge-only.ts", [s.broker.url, options.name]);
  const received = () => Number([...acknowledger.output().matchAll(/"received":(\d+)/g)].at(-1)?.[1] ?? 0);
  await waitFor("the acknowledge-only subscriber to subscribe", () =>
    acknowledger.output().includes('"subscribed"'),
  ).catch((error: Error) => {
    throw new Error(`${error.message}:\n${acknowledger.output()}`);
  });
  const { hosts, seconds, name } = options;
  const fleet = simulate(s.broker.url, { hosts, seconds, prefix: name, seed: hosts });
  await sleep(4000);
  const pids = { broker: s.broker.process.pid, subscriber: acknowledger.child.pid };
  const cpu = () => ({ broker: cpuSplit(pids.broker), subscriber: cpuSeconds(pids.subscriber) });
  const [cpu0, n0] = [cpu(), received()];
  await sleep((seconds - 7) * 1000);
  const [cpu1, n1] = [cpu(), received()];
  await fleet.summary;
  acknowledger.child.kill("SIGTERM");
  await acknowledger.exited;
  const perMessage = (seconds: number) => (seconds / Math.max(1, n1 - n0)) * 1e6;
  const brokerKernel = perMessage(cpu1.broker.system - cpu0.broker.system);
  const broker = brokerKernel + perMessage(cpu1.broker.user - cpu0.broker.user);
  const subscriber = perMessage(cpu1.subscriber - cpu0.subscriber);
  return { broker, brokerKernel, subscriber, total: broker + subscriber };
}
