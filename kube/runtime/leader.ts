import { systemClock, type Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { KubeClient, KubeObject } from "../client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../errors.ts";
import { resources } from "../resources.ts";

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  client: Pick<KubeClient, "get" | "create" | "update">;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid without renewal: others take over after this. */
  leaseDurationMs?: number;
  /** A leader that cannot renew within this gives up leadership (before others may take it). */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  log?: Logger;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: acquire the lease when
 * it is free or expired (by the holder's renewTime plus duration, judged on our clock), renew it
 * every retry period, and give leadership up when renewals fail for renewDeadline. Writes use the
 * lease's resourceVersion, so two candidates cannot both win.
 */
export class LeaderElector {
  private readonly o: Required<LeaderElectionOptions>;
  /** When we last saw the lease change (our clock), per observed resourceVersion. */
  private observed: { resourceVersion?: string; at: number } = { at: 0 };

  constructor(options: LeaderElectionOptions) {
    this.o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock: systemClock,
      log: silentLogger,
      ...options,
    };
  }

  /**
   * Waits until this candidate leads, then calls `lead` with a signal that aborts when leadership
   * is lost or `signal` aborts. Resolves after leadership ends (the lease is released on a clean stop).
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<void> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
      await this.o.clock.sleep(this.o.retryPeriodMs, signal).catch(() => {});
    }
    if (signal.aborted) return;
    this.o.log.info("became leader", {
      lease: `${this.o.namespace}/${this.o.name}`,
      identity: this.o.identity,
    });
    const leading = new AbortController();
    const stopLeading = () => leading.abort(new Error("leadership ended"));
    signal.addEventListener("abort", stopLeading, { once: true });
    const renewing = this.renewLoop(leading);
    try {
      await lead(leading.signal);
    } finally {
      stopLeading();
      await renewing;
      signal.removeEventListener("abort", stopLeading);
      await this.release();
    }
  }

  private async renewLoop(leading: AbortController): Promise<void> {
    let lastRenew = this.o.clock.now();
    while (!leading.signal.aborted) {
      await this.o.clock.sleep(this.o.retryPeriodMs, leading.signal).catch(() => {});
      if (leading.signal.aborted) return;
      if (await this.tryAcquireOrRenew()) lastRenew = this.o.clock.now();
      else if (this.o.clock.now() - lastRenew >= this.o.renewDeadlineMs) {
        this.o.log.error("lost leadership: could not renew the lease in time", { lease: this.o.name });
        leading.abort(new Error("lost leadership"));
      }
    }
  }

  /** One attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.clock.now();
    const desired = (prev?: Lease["spec"]): Lease["spec"] => ({
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime:
        prev?.holderIdentity === this.o.identity && prev.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions:
        (prev?.leaseTransitions ?? 0) +
        (prev?.holderIdentity && prev.holderIdentity !== this.o.identity ? 1 : 0),
    });
    let lease: Lease;
    try {
      lease = await this.o.client.get<Lease>(resources.leases, this.o.name, this.o.namespace);
    } catch (e) {
      if (!isNotFound(e)) return this.failed("reading", e);
      try {
        await this.o.client.create<Lease>(resources.leases, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: desired(),
        });
        return true;
      } catch (err) {
        return isAlreadyExists(err) ? false : this.failed("creating", err);
      }
    }
    if (lease.metadata?.resourceVersion !== this.observed.resourceVersion) {
      this.observed = { resourceVersion: lease.metadata?.resourceVersion, at: now };
    }
    const holder = lease.spec?.holderIdentity;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    // Expiry is judged by how long *we* have seen the lease unchanged, not by the holder's
    // timestamps, so clock skew between candidates cannot cause two leaders.
    const expired = !holder || now - this.observed.at >= durationMs;
    if (holder !== this.o.identity && !expired) return false;
    try {
      await this.o.client.update<Lease>(resources.leases, { ...lease, spec: desired(lease.spec) });
      return true;
    } catch (e) {
      return isConflict(e) ? false : this.failed("updating", e);
    }
  }

  /** Gives the lease up so a successor need not wait for it to expire. */
  private async release(): Promise<void> {
    try {
      const lease = await this.o.client.get<Lease>(resources.leases, this.o.name, this.o.namespace);
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      await this.o.client.update<Lease>(resources.leases, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: microTime(this.o.clock.now()),
        },
      });
    } catch (e) {
      this.o.log.warn("could not release the lease", { error: errorMessage(e) });
    }
  }

  private failed(action: string, e: unknown): false {
    this.o.log.warn(`leader election: ${action} the lease failed`, { error: errorMessage(e) });
    return false;
  }
}
