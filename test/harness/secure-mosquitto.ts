import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { makeCerts } from "../../deploy/certs/make-certs.ts";
import { ensureDebianBinary } from "./debian.ts";
import { freePort } from "./free-port.ts";
import { MosquittoService } from "./mosquitto.ts";

const DEPLOY_DIR = new URL("../../deploy/mosquitto/", import.meta.url);

/** The user the deployment's ACL gives read access to all telemetry, and nothing else. */
export const INGEST_USER = "telemetry-ingest";

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
  passwordFile: string;
  /** Re-writes the broker's password file and makes it reload it (SIGHUP), as an operator would. */
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
  const passwordFile = join(dir, "passwords");
  execFileSync(passwd, ["-c", "-b", passwordFile, users[0]!.name, users[0]!.password]);
  for (const user of users.slice(1)) execFileSync(passwd, ["-b", passwordFile, user.name, user.password]);
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
      execFileSync(passwd, ["-b", passwordFile, user.name, user.password]);
      service.process.signal("SIGHUP");
    },
  };
}
