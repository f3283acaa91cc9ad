import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TemperatureCollector, plausibleCelsius } from "../../../agent/src/collectors/temperature.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");
const collector = (tree: string) =>
  new TemperatureCollector({ procRoot: "/proc", sysRoot: join(fixtures, tree, "sys") });

describe("the temperature collector", () => {
  it("reads a Raspberry Pi's SoC temperature from thermal_zone0", async () => {
    const rpi = collector("rpi");
    await rpi.start();
    assert.equal(rpi.sensor(), "thermal_zone0");
    assert.deepEqual(await rpi.collect(), { celsius: 48.3, max: { celsius: 48.3 }, sensor: "thermal_zone0" });
  });

  it("reads the package as main and each core from an x86 coretemp hwmon device", async () => {
    const x86 = collector("coretemp");
    await x86.start();
    assert.equal(x86.sensor(), "coretemp");
    assert.deepEqual(await x86.collect(), {
      celsius: 61,
      max: { celsius: 63.5 },
      cores: { celsius: [58, 63.5] },
      sensor: "coretemp",
    });
  });

  it("reports no reading and the sensor 'none' where no sensor exists, never 0 or -1", async () => {
    const vm = collector("vm");
    await vm.start();
    assert.equal(vm.sensor(), "none");
    assert.equal(await vm.collect(), undefined);
  });

  it("treats 0, -1 and absurd values as no reading", () => {
    for (const bad of [0, -1, -273, 500, Number.NaN]) assert.equal(plausibleCelsius(bad), false);
    for (const good of [35.5, 85, -10]) assert.equal(plausibleCelsius(good), true);
  });
});
