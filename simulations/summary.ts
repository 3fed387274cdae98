import { formatDuration } from "./duration.ts";
import type { PolicyResult } from "./engine.ts";

export const SUMMARY_HEADER = [
  "POLICY",
  "TOTAL COST",
  "$/REPLICA-H",
  "GPU ALLOC",
  "PEAK NODES",
  "NODES LAUNCHED",
  "READY P50",
  "READY P95",
  "UNPLACED",
  "QUOTA FAIL",
  "LAUNCH FAIL",
] as const;

/** Columns that hold numbers, right-aligned in tables. */
export const SUMMARY_NUMERIC = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

export function money(v: number): string {
  return `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function percent(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** One summary row per policy, formatted for a table (CLI and report share it). */
export function summaryRow(r: PolicyResult): string[] {
  return [
    r.policy,
    money(r.totalCost),
    money(r.costPerServedReplicaHour),
    percent(r.meanAllocation),
    String(r.peakNodes),
    String(r.nodesLaunched),
    r.timeToReadyP50 === undefined ? "-" : formatDuration(r.timeToReadyP50),
    r.timeToReadyP95 === undefined ? "-" : formatDuration(r.timeToReadyP95),
    String(r.unplaced),
    String(r.quotaFailures),
    String(r.launchFailures),
  ];
}
