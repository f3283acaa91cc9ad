import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Sample, StatusMessage } from "@cluster-telemetry/contract";
import { VirtualHost } from "../../../agent/src/simulate/virtual-host.ts";
import { COLUMNS } from "../../../live/src/state/columns.ts";
import { Fleet } from "../../../live/src/state/fleet.ts";
import { Ring } from "../../../live/src/state/ring.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

/** Feeds a virtual host's messages (the simulator's, which follow the contract) into the fleet. */
function feed(
  fleet: Fleet,
  host: VirtualHost,
  at: number,
  intervalMs = 1000,
  status: "online" | "offline" = "online",
) {
  const s = host.status(status, at, intervalMs);
  fleet.applyStatus(host.name, JSON.parse(s.payload.toString()) as StatusMessage, at);
  for (const m of host.samples(at, intervalMs)) {
    const metric = m.topic.split("/").at(-1)!;
    const text = m.payload.toString();
    fleet.applySample(host.name, metric, JSON.parse(text) as Sample, text, at);
  }
}

const options = { maxHosts: 100, windowMinutes: 15, hotCelsius: 80, onLimit: () => undefined };

describe("the fleet's state", () => {
  it("keeps a ring per column covering the window at the host's interval, dropping the oldest", () => {
    const ring = new Ring(3);
    for (let t = 1; t <= 5; t++) ring.push(t, t * 10);
    assert.deepEqual(ring.points(), { times: [3, 4, 5], values: [30, 40, 50] });
    ring.push(5, 99);
    assert.deepEqual(ring.points().values, [30, 40, 50], "a resent point changes nothing");
    const fleet = new Fleet(options);
    feed(fleet, new VirtualHost("a", 1), T0);
    assert.equal(fleet.hosts.get("a")!.rings[0]!.capacity, 901, "15 min at 1 s, both ends");
  });

  it("averages consecutive points when a sparkline asks for fewer", () => {
    const ring = new Ring(10);
    for (let t = 1; t <= 8; t++) ring.push(t, t);
    assert.deepEqual(ring.downsampled(4), { times: [2, 4, 6, 8], values: [1.5, 3.5, 5.5, 7.5] });
  });

  it("derives online, silent after 3 intervals without a sample, and offline from the status", () => {
    const fleet = new Fleet(options);
    const host = new VirtualHost("h", 2);
    feed(fleet, host, T0);
    fleet.refresh(T0 + 3000);
    assert.equal(fleet.hosts.get("h")!.status, "online");
    fleet.refresh(T0 + 3001);
    assert.equal(fleet.hosts.get("h")!.status, "silent");
    feed(fleet, host, T0 + 4000);
    fleet.refresh(T0 + 4000);
    assert.equal(fleet.hosts.get("h")!.status, "online");
    const s = host.status("offline", T0 + 5000, 1000);
    fleet.applyStatus("h", JSON.parse(s.payload.toString()) as StatusMessage, T0 + 5000);
    fleet.refresh(T0 + 5000);
    assert.equal(fleet.hosts.get("h")!.status, "offline");
  });

  it("orders offline, silent, hot (hottest first), then the busiest, and sums up the fleet", () => {
    const fleet = new Fleet({ ...options, hotCelsius: 40 });
    const virtual = Array.from({ length: 40 }, (_, i) => new VirtualHost(`v-${i}`, i));
    for (const h of virtual) feed(fleet, h, T0);
    const silent = virtual[0]!;
    const offline = virtual[1]!;
    for (const h of virtual.slice(1)) feed(fleet, h, T0 + 5000);
    fleet.applyStatus(
      offline.name,
      JSON.parse(offline.status("offline", T0 + 5000, 1000).payload.toString()) as StatusMessage,
      T0 + 5000,
    );
    fleet.refresh(T0 + 5000);
    const order = fleet.ordered();
    assert.equal(order[0]!.name, offline.name);
    assert.equal(order[1]!.name, silent.name);
    const temperature = COLUMNS.findIndex((c) => c.metric === "temperature");
    const cpu = COLUMNS.findIndex((c) => c.metric === "cpu");
    const rest = order.slice(2);
    const hot = rest.filter((h) => h.hot);
    assert.ok(hot.length > 0, "some simulated hosts are above 40 °C");
    assert.deepEqual(rest.slice(0, hot.length), hot, "hot hosts come right after the stopped ones");
    for (let i = 1; i < hot.length; i++)
      assert.ok(Math.round(hot[i - 1]!.values[temperature]!) >= Math.round(hot[i]!.values[temperature]!));
    const cool = rest.slice(hot.length);
    for (let i = 1; i < cool.length; i++)
      assert.ok(Math.round(cool[i - 1]!.values[cpu]! * 100) >= Math.round(cool[i]!.values[cpu]! * 100));
    const summary = fleet.summary();
    assert.equal(summary.hosts, 40);
    assert.equal(summary.offline, 1);
    assert.equal(summary.silent, 1);
    assert.equal(summary.online, 38);
    assert.equal(summary.hot, hot.length);
    assert.equal(summary.hottest?.name, hot[0]!.name);
    const vms = virtual.filter((h) => h.profile.sensor === "none").length;
    assert.equal(summary.noSensor, vms);
  });

  it("refuses hosts beyond the limit and reports the first one", () => {
    const reported: string[] = [];
    const fleet = new Fleet({ ...options, maxHosts: 2, onLimit: (host) => reported.push(host) });
    for (let i = 0; i < 4; i++) feed(fleet, new VirtualHost(`x-${i}`, i), T0);
    assert.deepEqual([...fleet.hosts.keys()], ["x-0", "x-1"]);
    assert.deepEqual(reported, ["x-2"]);
    assert.ok(fleet.refused >= 2);
  });
});
