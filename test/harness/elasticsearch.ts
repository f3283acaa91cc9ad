import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDebianBinary } from "./debian.ts";
import { freePort } from "./free-port.ts";
import { ServiceProcess } from "./service-process.ts";
import { disposeWithTestProcess } from "./cleanup.ts";

/** The server version the launcher's pom.xml pins. */
export const ELASTICSEARCH_VERSION = "9.5.3";
const MINIMUM_JAVA = 21;
const launcherDir = join(dirname(fileURLToPath(import.meta.url)), "elasticsearch");

export interface ElasticsearchOptions {
  /** HTTP port on 127.0.0.1. @defaultValue a free port */
  port?: number;
  /** Data and log directory. @defaultValue a new temp dir */
  dir?: string;
  /** JVM heap. @defaultValue "1g" */
  heap?: string;
}

/**
 * A real single-node Elasticsearch, run from the artifacts on Maven Central by a small launcher
 * (./elasticsearch). Security and the x-pack modules are absent: test/README.md lists what that
 * node supports.
 */
export class ElasticsearchService {
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly process: ServiceProcess,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: ElasticsearchOptions = {}): Promise<ElasticsearchService> {
    const service = ElasticsearchService.prepare(options, await (options.port ?? freePort()));
    disposeWithTestProcess(service.process, options.dir ? undefined : service.dir);
    await service.process.start();
    return service;
  }

  static prepare(options: ElasticsearchOptions, port: number): ElasticsearchService {
    const javaHome = findJavaHome();
    buildLauncher(javaHome);
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "telemetry-elasticsearch-"));
    const heap = options.heap ?? "1g";
    const target = join(launcherDir, "target");
    const url = `http://127.0.0.1:${port}`;
    const process = new ServiceProcess({
      name: "elasticsearch",
      command: join(javaHome, "bin", "java"),
      args: [
        `-Xms${heap}`,
        `-Xmx${heap}`,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        "-Dlog4j2.formatMsgNoLookups=true",
        "--enable-native-access=ALL-UNNAMED,org.apache.lucene.core,org.elasticsearch.nativeaccess",
        "--add-modules=jdk.incubator.vector",
        "--module-path",
        join(target, "lib"),
        "--add-modules=ALL-MODULE-PATH",
        "-cp",
        join(target, "classes"),
        "telemetry.harness.Launcher",
        target,
        dir,
        String(port),
      ],
      logFile: join(dir, "elasticsearch.log"),
      readyTimeoutMs: 120_000,
      port,
      isReady: () => clusterReady(url),
    });
    return new ElasticsearchService(port, dir, process);
  }

  async restart(): Promise<void> {
    await this.process.stop(30_000);
    await this.process.start();
  }
}

async function clusterReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
    signal: AbortSignal.timeout(3000),
  });
  return response.ok;
}

/** The newest JDK under /usr/lib/jvm (or JAVA_HOME) that Elasticsearch 9 runs on. */
export function findJavaHome(): string {
  const candidates: string[] = [];
  if (process.env.JAVA_HOME) candidates.push(process.env.JAVA_HOME);
  if (existsSync("/usr/lib/jvm")) {
    for (const name of readdirSync("/usr/lib/jvm")) candidates.push(join("/usr/lib/jvm", name));
  }
  const usable = candidates
    .map((home) => ({ home, major: javaMajor(home) }))
    .filter((c) => c.major >= MINIMUM_JAVA && existsSync(join(c.home, "bin", "javac")))
    .sort((a, b) => b.major - a.major);
  const best = usable[0];
  if (!best) {
    throw new Error(
      `Elasticsearch ${ELASTICSEARCH_VERSION} needs a JDK ${MINIMUM_JAVA} or newer; none found in JAVA_HOME or /usr/lib/jvm`,
    );
  }
  return best.home;
}

function javaMajor(home: string): number {
  try {
    const release = readFileSync(join(home, "release"), "utf8");
    const match = /JAVA_VERSION="(\d+)/.exec(release);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Builds the launcher once; Maven keeps its repository in ~/.m2, so a second build (and every
 * later start) downloads nothing.
 */
function buildLauncher(javaHome: string): void {
  const marker = join(launcherDir, "target", "classes", "telemetry", "harness", "Launcher.class");
  const sources = [
    join(launcherDir, "pom.xml"),
    join(launcherDir, "src/main/java/telemetry/harness/Launcher.java"),
  ];
  const built = existsSync(marker) && existsSync(join(launcherDir, "target", "modules", "transport-netty4"));
  if (built && sources.every((s) => statSync(s).mtimeMs <= statSync(marker).mtimeMs)) return;
  const mvn = ensureDebianBinary("mvn", "maven");
  process.stderr.write(
    `harness: building the Elasticsearch ${ELASTICSEARCH_VERSION} launcher with Maven, once per checkout ` +
      "(the first time it downloads about 50 MB of jars into ~/.m2: up to a few minutes)\n",
  );
  const began = Date.now();
  // Maven's output goes to stderr: stdout of `services up` is for the URL lines alone. Its colour
  // codes and the JDK's warnings about Maven's own libraries are noise to a reader of that output.
  const unsafeAllowed = javaMajor(javaHome) >= 24 ? " --sun-misc-unsafe-memory-access=allow" : "";
  execFileSync(mvn, ["-q", "-B", "-Dstyle.color=never", "package"], {
    cwd: launcherDir,
    env: {
      ...process.env,
      JAVA_HOME: javaHome,
      MAVEN_OPTS: `${process.env.MAVEN_OPTS ?? ""}${unsafeAllowed}`.trim(),
    },
    stdio: ["ignore", process.stderr.fd, "inherit"],
  });
  process.stderr.write(`harness: launcher built in ${Math.round((Date.now() - began) / 1000)} s\n`);
}
