import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { makeCerts } from "../../deploy/certs/make-certs.ts";
import { ensureDebianBinary } from "./debian.ts";
import { freePort } from "./free-port.ts";
import { MosquittoService } from "./mosquitto.ts";

const DEPLOY_DIR = new URL("../../deploy/mosquitto/", import.meta.url);

/** The user the deployment's ACL gives read access to all telemetry, and nothing else. */
export const INGEST_USER = "telemetry-ingest";

/** The user of the broker's health check, on the container's loopback listener only. */
export const HEALTHCHECK_USER = "healthcheck";

export interface SecureBrokerUser {
  name: string;
  password: string;
}

export interface SecureBroker {
  service: MosquittoService;
  /** Nodes: TLS + password; client id forced to the user name. */
  tlsUrl: string;
  /** Nodes: mutual TLS, the certificate's CN is the user. */
  mutualTlsUrl: string;
  /** Services (the ingest): TLS + password, own client ids. */
  servicesUrl: string;
  /** Plain MQTT, loopback only, still authenticated. */
  plainUrl: string;
  /** ca.crt, broker.*, and <user>.crt/.key for every user. */
  certsDir: string;
  /** A second, unrelated CA with a client certificate "node-a": what an attacker could make. */
  rogueCertsDir: string;
  /** The nodes' password file (listener 8883); the ingest's and the health check's have their own. */
  passwordFile: string;
  /** Re-writes the user's password file and makes the broker reload it (SIGHUP), as an operator would. */
  setPassword(user: SecureBrokerUser): void;
}

/**
 * Mosquitto run with the deployment's own configuration (deploy/mosquitto): the same listeners,
 * password file, ACL and limits, with paths and ports moved to a temp dir and free ports, and
 * certificates from the project's own certificate tool.
 */
export async function startSecureBroker(users: SecureBrokerUser[]): Promise<SecureBroker> {
  const passwd = ensureDebianBinary("mosquitto_passwd", "mosquitto");
  const dir = mkdtempSync(join(tmpdir(), "telemetry-secure-mosquitto-"));
  const certsDir = join(dir, "certs");
  const rogueCertsDir = join(dir, "rogue");
  const names = users.map((u) => u.name);
  await makeCerts({
    out: certsDir,
    hosts: ["localhost", "127.0.0.1"],
    clients: names,
    servers: {},
    days: 2,
    caDays: 2,
    force: false,
  });
  await makeCerts({
    out: rogueCertsDir,
    hosts: ["localhost"],
    clients: ["node-a"],
    servers: {},
    days: 2,
    caDays: 2,
    force: false,
  });
  mkdirSync(join(dir, "data"));
  // One password file per listener, as deploy/setup/setup.sh writes them: the ingest's account on
  // the services listener, the health check's on the loopback one, every other user is a node.
  const fileOf = (name: string) =>
    join(
      dir,
      name === INGEST_USER
        ? "services.passwords"
        : name === HEALTHCHECK_USER
          ? "local.passwords"
          : "passwords",
    );
  const passwordFile = fileOf("node");
  for (const file of ["passwords", "services.passwords", "local.passwords"])
    writeFileSync(join(dir, file), "");
  for (const user of users) execFileSync(passwd, ["-b", fileOf(user.name), user.name, user.password]);
  copyFileSync(new URL("acl", DEPLOY_DIR), join(dir, "acl"));

  const ports = {
    8883: await freePort(),
    8884: await freePort(),
    8885: await freePort(),
    1883: await freePort(),
  };
  const config = readFileSync(new URL("mosquitto.conf", DEPLOY_DIR), "utf8")
    .replaceAll("/mosquitto/config/", `${dir}/`)
    .replaceAll("/mosquitto/certs/", `${certsDir}/`)
    .replaceAll("/mosquitto/data/", `${dir}/data/`)
    .replace(/^listener (\d+)(?: \S+)?$/gm, (_line, port: string) => {
      const moved = ports[Number(port) as keyof typeof ports];
      if (!moved) throw new Error(`deploy/mosquitto/mosquitto.conf has an unexpected listener ${port}`);
      return `listener ${moved} 127.0.0.1`;
    });
  const service = await MosquittoService.start({
    dir,
    port: ports[8883],
    // Run as the invoking user: as root Mosquitto would switch to "mosquitto", who cannot read here.
    config: `user ${userInfo().username}\n${config}`,
  });
  return {
    service,
    tlsUrl: `mqtts://localhost:${ports[8883]}`,
    mutualTlsUrl: `mqtts://localhost:${ports[8884]}`,
    servicesUrl: `mqtts://localhost:${ports[8885]}`,
    plainUrl: `mqtt://127.0.0.1:${ports[1883]}`,
    certsDir,
    rogueCertsDir,
    passwordFile,
    setPassword(user) {
      execFileSync(passwd, ["-b", fileOf(user.name), user.name, user.password]);
      service.process.signal("SIGHUP");
    },
  };
}
