import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { freePort, RedisService, ServiceStartError } from "@cluster-telemetry/dev-stack";
import { Redis } from "ioredis";
import { pidAlive } from "@cluster-telemetry/dev-stack";

describe("the harness's service processes", () => {
  const started: RedisService[] = [];
  const preparedOnly: string[] = [];
  after(async () => {
    for (const s of started) await s.process.stop();
    for (const dir of preparedOnly) rmSync(dir, { recursive: true, force: true });
  });

  it("restarts a service on the same port with its data kept", async () => {
    const redis = await RedisService.start();
    started.push(redis);
    const before = redis.process.pid;
    const client = new Redis(redis.url);
    await client.set("survives", "restart");
    await client.quit();
    await redis.restart();
    assert.notEqual(redis.process.pid, before);
    const again = new Redis(redis.url);
    assert.equal(await again.get("survives"), "restart");
    await again.quit();
  });

  it("fails with the tail of the service's log and a one-line reason when a service cannot start", async () => {
    const broken = RedisService.prepare({ maxmemory: "plenty" }, await freePort());
    preparedOnly.push(broken.dir);
    await assert.rejects(broken.process.start(), (error: unknown) => {
      assert.ok(error instanceof ServiceStartError);
      assert.equal(error.service, "redis");
      assert.match(error.message, /^redis did not start: process exited/);
      assert.match(error.logTail, /maxmemory/);
      return true;
    });
  });

  it("refuses to start a service on a port that something else already listens on", async () => {
    const first = await RedisService.start();
    started.push(first);
    const clash = RedisService.prepare({}, first.port);
    preparedOnly.push(clash.dir);
    await assert.rejects(clash.process.start(), /redis did not start: port \d+ is already in use/);
    assert.ok(first.process.running, "the service that owns the port keeps running");
  });

  it("stops only the process it started", async () => {
    const a = await RedisService.start();
    const b = await RedisService.start();
    started.push(b);
    const pidA = a.process.pid ?? 0;
    await a.process.stop();
    assert.equal(pidAlive(pidA), false);
    assert.ok(b.process.running);
  });
});
