import type { Services } from "../rig.ts";

/** One bench:capacity run: its services, and the names that keep its data apart from other runs'. */
export interface CapacityRun {
  s: Services;
  /** Unique per run (base 36 of the start time): host-name prefixes and client ids. */
  run: string;
  /** The main ingest's namespace and Redis prefix; other loads add a suffix. */
  namespace: string;
}
