import type { StandinRequest, StandinResponse } from "../http.ts";

/** A scripted failure: the first `times` requests for `operation` (any, if absent) get `respond`. */
export interface Fault {
  /** Route operation such as "resourceSkus.list"; undefined matches every operation. */
  operation?: string;
  times: number;
  /** Narrows the fault to some requests of the operation (say, one VM size); all when absent. */
  matches?(request: StandinRequest): boolean;
  /**
   * "request" (default): the fault is the HTTP answer. "operation": the request is accepted and
   * the long-running operation it starts ends Failed with the error of `respond`'s body, as ARM
   * reports an allocation failure found after the create began.
   */
  phase?: "request" | "operation";
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
  take(
    operation: string,
    request: StandinRequest,
    phase: "request" | "operation" = "request",
  ): StandinResponse | undefined {
    const entry = this.queue.find(
      (e) =>
        e.remaining > 0 &&
        (e.fault.phase ?? "request") === phase &&
        (e.fault.operation ?? operation) === operation &&
        (e.fault.matches?.(request) ?? true),
    );
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
