import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TemperatureSensorCollector } from "../../../agent/src/collectors/temperature-sensor.ts";
import { TemperatureCollector, plausibleCelsius } from "../../../agent/src/collectors/temperature.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");
const options = (tree: string) => ({ procRoot: "/proc", sysRoot: join(fixtures, tree, "sys") });
const collector = (tree: string) => new TemperatureCollector(options(tree));
const sensors = (tree: string) => new TemperatureSensorCollector(options(tree));

describe("the temperature collector", () => {
  it("reads a Raspberry Pi's SoC temperature from thermal_zone0", async () => {
    const rpi = collector("rpi");
    await rpi.start();
    assert.equal(rpi.sensor(), "thermal_zone0");
    assert.deepEqual(await rpi.collect(), { celsius: 48.3, max: { celsius: 48.3 }, sensor: "thermal_zone0" });
  });

  it("reads the package as main, one value per host, from an x86 coretemp hwmon device", async () => {
    const x86 = collector("coretemp");
    await x86.start();
    assert.equal(x86.sensor(), "coretemp");
    assert.deepEqual(await x86.collect(), { celsius: 61, max: { celsius: 63.5 }, sensor: "coretemp" });
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

describe("the temperature_sensor collector", () => {
  it("reports every input of coretemp with its label, each its own entity, and not the ACPI zone", async () => {
    const x86 = sensors("coretemp");
    await x86.start();
    assert.equal(x86.sensor(), "coretemp");
    assert.deepEqual(await x86.collect(), [
      { id: "hwmon1/temp1", chip: "coretemp", label: "Package id 0", celsius: 61 },
      { id: "hwmon1/temp2", chip: "coretemp", label: "Core 0", celsius: 58 },
      { id: "hwmon1/temp3", chip: "coretemp", label: "Core 1", celsius: 63.5 },
    ]);
  });

  it("reports a Raspberry Pi's thermal zone, named by its type", async () => {
    const rpi = sensors("rpi");
    await rpi.start();
    assert.deepEqual(await rpi.collect(), [{ id: "thermal_zone0", chip: "cpu-thermal", celsius: 48.3 }]);
  });

  it("reports nothing where no sensor exists", async () => {
    const vm = sensors("vm");
    await vm.start();
    assert.equal(vm.sensor(), "none");
    assert.equal(await vm.collect(), undefined);
  });
});
