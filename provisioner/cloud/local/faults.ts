import { normalizeFamily, type Sku } from "../../../planner/catalog/index.ts";
import { CreateError, InsufficientCapacityError, type CapacityReason } from "../errors.ts";

/** How an injected launch failure shows: one of the capacity reasons, or a retryable error. */
export type LaunchFailureKind = CapacityReason | "transient";

/** Quota can run out for a whole family or for one SKU. */
export type QuotaTarget = { family: string } | { sku: string };

/** The error a launch reports for an injected failure, worded as the real cloud would. */
export function injectedFailure(kind: LaunchFailureKind, sku: string): Error {
  switch (kind) {
    case "quota":
      return new InsufficientCapacityError(
        "quota",
        sku,
        `the vCPU quota for the family of ${sku} is used up.`,
      );
    case "sku":
      return new InsufficientCapacityError("sku", sku, `${sku} is not available in this region.`);
    case "allocation":
      return new InsufficientCapacityError("allocation", sku, `the region has no capacity left for ${sku}.`);
    case "transient":
      return new CreateError("LaunchFailed", `launching ${sku} failed; the launch will be retried.`);
  }
}

/**
 * The local cloud's fault injection, for tests and demos: fail the next N launches, run out of
 * quota for a family or SKU, launch instances that never register or never become Ready.
 */
export class LaunchFaults {
  private readonly failures: LaunchFailureKind[] = [];
  private neverRegister = 0;
  private neverBoot = 0;
  private readonly exhaustedFamilies = new Set<string>();
  private readonly exhaustedSkus = new Set<string>();

  /** The next `count` launches fail with `kind` (InsufficientCapacity for a capacity reason). */
  failNextLaunches(count: number, kind: LaunchFailureKind = "allocation"): void {
    for (let i = 0; i < count; i++) this.failures.push(kind);
  }

  /** The next `count` launches make an instance whose Node never appears. */
  neverRegisterNext(count = 1): void {
    this.neverRegister += count;
  }

  /** The next `count` launches make a Node that stays NotReady. */
  neverBootNext(count = 1): void {
    this.neverBoot += count;
  }

  exhaustQuota(target: QuotaTarget): void {
    if ("family" in target) this.exhaustedFamilies.add(normalizeFamily(target.family));
    else this.exhaustedSkus.add(target.sku.toLowerCase());
  }

  restoreQuota(target: QuotaTarget): void {
    if ("family" in target) this.exhaustedFamilies.delete(normalizeFamily(target.family));
    else this.exhaustedSkus.delete(target.sku.toLowerCase());
  }

  /** Forgets every injected fault. */
  clear(): void {
    this.failures.length = 0;
    this.neverRegister = 0;
    this.neverBoot = 0;
    this.exhaustedFamilies.clear();
    this.exhaustedSkus.clear();
  }

  /** The injected failure of this launch, if any; each is used once. */
  takeFailure(sku: string): Error | undefined {
    const kind = this.failures.shift();
    return kind ? injectedFailure(kind, sku) : undefined;
  }

  takeNeverRegister(): boolean {
    if (this.neverRegister <= 0) return false;
    this.neverRegister--;
    return true;
  }

  takeNeverBoot(): boolean {
    if (this.neverBoot <= 0) return false;
    this.neverBoot--;
    return true;
  }

  /** The whole family is out of quota (not just one of its sizes). */
  familyExhausted(family: string): boolean {
    return this.exhaustedFamilies.has(normalizeFamily(family));
  }

  quotaExhausted(sku: Sku): boolean {
    return (
      this.exhaustedSkus.has(sku.name.toLowerCase()) ||
      this.exhaustedFamilies.has(normalizeFamily(sku.family))
    );
  }
}
