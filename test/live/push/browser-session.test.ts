import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Sample, StatusMessage } from "@cluster-telemetry/contract";
import { VirtualHost } from "../../../agent/src/simulate/virtual-host.ts";
import { BrowserSession } from "../../../live/src/push/browser-session.ts";
import { Fleet } from "../../../live/src/state/fleet.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

function fleetOf(count: number): {
  fleet: Fleet;
  hosts: VirtualHost[];
  tick: (at: number, only?: VirtualHost[]) => void;
} {
  const fleet = new Fleet({ maxHosts: 10_000, windowMinutes: 15, hotCelsius: 80, onLimit: () => undefined });
  const hosts = Array.from({ length: count }, (_, i) => new VirtualHost(`n-${i}`, i));
  for (const h of hosts)
    fleet.applyStatus(
      h.name,
      JSON.parse(h.status("online", T0, 1000).payload.toString()) as StatusMessage,
      T0,
    );
  const tick = (at: number, only = hosts) => {
    for (const h of only)
      for (const m of h.samples(at, 1000)) {
        const text = m.payload.toString();
        fleet.applySample(h.name, m.topic.split("/").at(-1)!, JSON.parse(text) as Sample, text, at);
      }
    fleet.refresh(at);
  };
  return { fleet, hosts, tick };
}

describe("a browser's updates", () => {
  it("start with its window's rows and sparklines, then carry only the rows that changed", () => {
    const { fleet, hosts, tick } = fleetOf(500);
    tick(T0);
    const session = new BrowserSession("s");
    session.setView({ filter: "", offset: 0, count: 30, detail: undefined });
    const first = session.update(fleet, true, 15, T0)!;
    assert.equal(first.n, 500);
    assert.equal(first.order?.length, 30);
    assert.equal(first.rows?.length, 30);
    assert.ok(
      first.rows!.every((r) => r.p !== undefined),
      "sparklines come with a row's first appearance",
    );
    assert.equal(session.update(fleet, true, 15, T0), undefined, "nothing changed, nothing sent");

    const shown = new Set(first.order);
    const changed = hosts.filter((h) => shown.has(h.name)).slice(0, 3);
    tick(T0 + 1000, changed);
    const second = session.update(fleet, true, 15, T0 + 1000)!;
    const names = (second.rows ?? []).map((r) => r.h);
    for (const h of changed.filter((c) => (second.order ?? first.order)!.includes(c.name)))
      assert.ok(names.includes(h.name));
    assert.ok(
      names.every((n) => changed.some((c) => c.name === n) || !shown.has(n)),
      "rows that did not change are not resent",
    );
    assert.ok(
      (second.rows ?? []).filter((r) => shown.has(r.h)).every((r) => r.p === undefined),
      "no sparkline twice",
    );
  });

  it("size depends on the window, not the fleet: 5,000 hosts all changing cost one window of rows", () => {
    const { fleet, tick } = fleetOf(5000);
    tick(T0);
    const session = new BrowserSession("s");
    session.setView({ filter: "", offset: 0, count: 50, detail: undefined });
    session.update(fleet, true, 15, T0);
    tick(T0 + 1000);
    const update = session.update(fleet, true, 15, T0 + 1000)!;
    assert.ok((update.rows?.length ?? 0) <= 50);
    assert.ok(JSON.stringify(update).length < 50_000, `${JSON.stringify(update).length} bytes`);
  });

  it("filters by name, any case, and counts the matches", () => {
    const { fleet, tick } = fleetOf(120);
    tick(T0);
    const session = new BrowserSession("s");
    session.setView({ filter: "N-1", offset: 0, count: 200, detail: undefined });
    const update = session.update(fleet, true, 15, T0)!;
    const expected = fleet
      .ordered()
      .filter((h) => h.name.includes("n-1"))
      .map((h) => h.name);
    assert.equal(update.n, expected.length);
    assert.deepEqual(update.order, expected);
  });

  it("carries the detail host's latest samples when it changed", () => {
    const { fleet, hosts, tick } = fleetOf(10);
    tick(T0);
    const session = new BrowserSession("s");
    session.setView({ filter: "", offset: 0, count: 10, detail: hosts[3]!.name });
    const update = session.update(fleet, true, 15, T0)!;
    assert.equal(update.detail?.row.h, hosts[3]!.name);
    assert.equal(typeof (update.detail?.latest.cpu as { cores: number }).cores, "number");
    assert.equal(session.update(fleet, true, 15, T0)?.detail, undefined);
  });
});
