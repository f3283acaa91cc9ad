/**
 * What became of each item of one bulk request. Partial failure is a value: the accepted are done,
 * the retryable go again with backoff, the rejected become dead letters with Elasticsearch's reason.
 *
 *   201 created          → accepted
 *   409 version conflict → accepted, counted as duplicate (the sample is already indexed)
 *   429, 5xx, 403        → retry (overloaded, a write block, a restarting shard, a missing privilege)
 *   other 4xx (400 …)    → rejected (a mapping or parse error cannot succeed on retry)
 */
export interface BulkOutcome {
  accepted: number[];
  duplicates: number[];
  retry: number[];
  rejected: Array<{ position: number; type: string; reason: string }>;
}

export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string | null } | undefined;
}

export function classifyBulkItems(items: BulkItemResult[]): BulkOutcome {
  const outcome: BulkOutcome = { accepted: [], duplicates: [], retry: [], rejected: [] };
  items.forEach((item, position) => {
    const { status } = item;
    if (status >= 200 && status < 300) outcome.accepted.push(position);
    else if (status === 409) {
      outcome.accepted.push(position);
      outcome.duplicates.push(position);
    } else if (status === 429 || status >= 500 || status === 403) outcome.retry.push(position);
    else {
      outcome.rejected.push({
        position,
        type: item.error?.type ?? `http_${status}`,
        reason: item.error?.reason ?? `status ${status}`,
      });
    }
  });
  return outcome;
}

/**
 * Whether the status of a failed bulk request (not of one item) refuses the request as a whole, so
 * that no retry of the same request can change it: every 4xx but the ones that say "later" (408,
 * 429) or "not you, the credentials" (401, 403). The indexer then splits the request to find the
 * document at fault; anything else (5xx, no response at all) is retried as it is.
 */
export function refusedAsAWhole(status: number): boolean {
  return status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
}

/** Delay before retry round `attempt` (0-based): doubling from 200 ms, capped at 30 s, with jitter. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 200 * 2 ** Math.min(attempt, 20));
  return Math.round(base / 2 + (random() * base) / 2);
}
