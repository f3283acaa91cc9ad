export { MosquittoService, mosquittoConfig, type MosquittoOptions } from "./mosquitto.ts";
export { RedisService, type RedisOptions } from "./redis.ts";
export { ElasticsearchService, ELASTICSEARCH_VERSION, type ElasticsearchOptions } from "./elasticsearch.ts";
export { ServiceProcess, ServiceStartError } from "./service-process.ts";
export { sharedServices, uniqueName, type SharedServices } from "./shared.ts";
export { freePort } from "./free-port.ts";
export {
  startSecureBroker,
  INGEST_USER,
  HEALTHCHECK_USER,
  type SecureBroker,
  type SecureBrokerUser,
} from "./secure-mosquitto.ts";
export { ensureDebianBinary, which } from "./debian.ts";
export { launchChromium } from "./chromium.ts";
export { spawnProgram, waitFor, type ProgramProcess } from "./program.ts";
export {
  SERVICE_ENV,
  up,
  down,
  recordedPids,
  status,
  envLines,
  stateDir,
  type ServiceName,
  type StackService,
  type StackOptions,
} from "./stack.ts";
export { cachedDebianRoot, DebianChroot, type DebianRootOptions, type ChrootRun } from "./debian-root.ts";
export { signalGroup, pidAlive, tail } from "./service-process.ts";
export { isListening } from "./free-port.ts";
