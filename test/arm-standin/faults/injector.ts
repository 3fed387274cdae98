import type { StandinRequest, StandinResponse } from "../http.ts";

/** A scripted failure: the first `times` requests for `operation` (any, if absent) get `respond`. */
export interface Fault {
  /** Route operation such as "resourceSkus.list"; undefined matches every operation. */
  operation?: string;
  times: number;
  respond(request: StandinRequest): StandinResponse;
}

/** Faults in the order they were added; each is used up after `times` matching requests. */
export class FaultInjector {
  private readonly queue: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault): this {
    if (!Number.isInteger(fault.times) || fault.times < 1) throw new Error("a fault needs times >= 1");
    this.queue.push({ fault, remaining: fault.times });
    return this;
  }

  /** Consumes one use of the first matching fault and returns its response. */
  take(operation: string, request: StandinRequest): StandinResponse | undefined {
    const entry = this.queue.find((e) => e.remaining > 0 && (e.fault.operation ?? operation) === operation);
    if (!entry) return undefined;
    entry.remaining--;
    return entry.fault.respond(request);
  }

  /** Uses left across all faults: 0 once every scripted failure has been served. */
  pending(): number {
    return this.queue.reduce((n, e) => n + e.remaining, 0);
  }

  clear(): void {
    this.queue.length = 0;
  }
}
