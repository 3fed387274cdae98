import type { Clock } from "../../lib/clock.ts";
import { KubeRequestError } from "../errors.ts";
import type { WriteFence } from "../http/policies/fence.ts";
import type { KubeRequest } from "../http/pipeline.ts";

/**
 * Whether this manager may still write, judged on its own clock from its last lease renewal.
 *
 * A candidate that has never led may write (its leader-only work does not run; what runs on every
 * replica, such as the extender's bindings, must). Once it leads, it may write until the renew
 * deadline after the last renewal it *sent* (a renewal the API server accepted was written after
 * it was sent, and a rival waits a whole lease duration from the moment it sees that write, which
 * is longer). Past that deadline, or once leadership ends, it is deposed for good: the process
 * exits and the Deployment starts a fresh one.
 *
 * The deadline is checked against the clock on every write, not only by a timer: after a SIGSTOP
 * or a long GC pause, Node runs I/O callbacks (a watch event, a reconcile's next write) before
 * the overdue timers, and those writes must already be refused. A write that had left the
 * process before it froze cannot be recalled; client-go has the same limit (its leaderelection
 * package promises no fencing at all).
 */
export class LeaseFence implements WriteFence {
  private readonly clock: Clock;
  private readonly renewDeadlineMs: number;
  private state: "candidate" | "leading" | "deposed" = "candidate";
  private validUntil = 0;
  private reason = "";

  constructor(clock: Clock, renewDeadlineMs: number) {
    this.clock = clock;
    this.renewDeadlineMs = renewDeadlineMs;
  }

  /** A renewal (or the acquisition) sent at `sentAt` succeeded. */
  renewed(sentAt: number): void {
    if (this.state === "deposed") return;
    this.state = "leading";
    this.validUntil = Math.max(this.validUntil, sentAt + this.renewDeadlineMs);
  }

  /** When the current term ends unless renewed (ms on the clock); undefined unless leading. */
  deadline(): number | undefined {
    return this.state === "leading" ? this.validUntil : undefined;
  }

  depose(reason: string): void {
    if (this.state === "deposed") return;
    this.state = "deposed";
    this.reason = reason;
  }

  mayWrite(): boolean {
    if (this.state === "leading" && this.clock.now() >= this.validUntil) {
      this.depose("the lease was not renewed within the renew deadline");
    }
    return this.state !== "deposed";
  }

  check(request: Pick<KubeRequest, "method" | "url">): void {
    if (this.mayWrite()) return;
    throw new KubeRequestError({
      code: "NotLeader",
      method: request.method,
      path: request.url.pathname,
      message: `${request.method} ${request.url.pathname} refused: this manager is no longer the leader (${this.reason})`,
    });
  }
}
