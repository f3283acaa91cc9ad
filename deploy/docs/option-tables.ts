import type { ProgramOptions } from "@cluster-telemetry/contract/config";
import { AGENT_PROGRAM } from "../../agent/src/config/agent-options.ts";
import { SIMULATE_PROGRAM } from "../../agent/src/config/simulate-config.ts";
import { INGEST_PROGRAM } from "../../ingest/src/config/ingest-options.ts";
import { IMPORT_PROGRAM } from "../../kibana/src/config.ts";
import { LIVE_PROGRAM } from "../../live/src/config/live-options.ts";
import { START_PROGRAM } from "../local/start-options.ts";

/** A README's generated options table: the file, the name in its markers, the program it documents. */
export interface OptionsTableSite {
  readme: string;
  marker: string;
  program: ProgramOptions;
}

/** Every README table generated from an option table, by `npm run docs` and checked by a test. */
export const OPTIONS_TABLE_SITES: OptionsTableSite[] = [
  { readme: "README.md", marker: "npm-start", program: START_PROGRAM },
  { readme: "agent/README.md", marker: "telemetry-agent", program: AGENT_PROGRAM },
  { readme: "agent/README.md", marker: "telemetry-agent-simulate", program: SIMULATE_PROGRAM },
  { readme: "ingest/README.md", marker: "telemetry-ingest", program: INGEST_PROGRAM },
  { readme: "live/README.md", marker: "telemetry-live", program: LIVE_PROGRAM },
  { readme: "kibana/README.md", marker: "kibana-import", program: IMPORT_PROGRAM },
];
