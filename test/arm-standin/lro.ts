import { randomUUID } from "node:crypto";
import type { StandinRequest } from "./http.ts";
import type { ArmState, WireOperation, WireVm } from "./state.ts";

/** What a VM finds at its first boot besides its ARM model. */
export interface VmBoot {
  /** osProfile.customData as ARM received it (base64); absent when the PUT had none. */
  customData?: string;
}

/** Called when a VM has finished creating or has been deleted (./kubelet/ boots its kubelet). */
export interface VmHooks {
  onVmCreated?(vm: WireVm, boot: VmBoot): void | Promise<void>;
  onVmDeleted?(vm: WireVm): void | Promise<void>;
}

/**
 * Runs the hooks without holding up the HTTP answer, and remembers them so a test can wait for
 * every hook to finish (settled) and see the ones that failed.
 */
export class HookRunner {
  private hooks: VmHooks;
  private readonly running = new Set<Promise<void>>();
  readonly failures: unknown[] = [];

  constructor(hooks: VmHooks = {}) {
    this.hooks = hooks;
  }

  /** Replaces the hooks (a test may build them once the stand-in's address is known). */
  use(hooks: VmHooks): void {
    this.hooks = hooks;
  }

  created(vm: WireVm, boot: VmBoot = {}): void {
    this.run(() => this.hooks.onVmCreated?.(structuredClone(vm), { ...boot }));
  }

  deleted(vm: WireVm): void {
    this.run(() => this.hooks.onVmDeleted?.(structuredClone(vm)));
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private run(hook: () => void | Promise<void>): void {
    const p: Promise<void> = Promise.resolve()
      .then(hook)
      .catch((e: unknown) => {
        this.failures.push(e);
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}

/** What the operation engine needs: the state, how many polls an operation stays InProgress, the hooks, a clock. */
export interface LroContext {
  state: ArmState;
  /**
   * InProgress answers before an operation finishes: > 0 makes the SDK really poll. A function
   * is asked once per operation, so operations can differ in length.
   */
  polls: number | (() => number);
  /** Retry-After (seconds) on an operation's start and on its InProgress polls; none when absent. */
  retryAfterSeconds?: number;
  hooks: HookRunner;
  now(): Date;
}

/** The Retry-After header ARM adds to a running operation's answers, when configured. */
export function retryAfterHeader(c: LroContext): Record<string, string> {
  return c.retryAfterSeconds === undefined ? {} : { "retry-after": String(c.retryAfterSeconds) };
}

/** Starts an operation on a VM and returns the Azure-AsyncOperation URL the client polls. */
export function startOperation(
  c: LroContext,
  request: StandinRequest,
  o: Pick<WireOperation, "kind" | "resourceGroup" | "vmName" | "error"> & { location: string },
): { operation: WireOperation; headers: Record<string, string> } {
  const name = randomUUID();
  const operation: WireOperation = {
    name,
    kind: o.kind,
    resourceGroup: o.resourceGroup,
    vmName: o.vmName,
    pollsLeft: typeof c.polls === "number" ? c.polls : c.polls(),
    status: "InProgress",
    ...(o.error ? { error: o.error } : {}),
    startTime: c.now().toISOString(),
  };
  c.state.operations.set(name, operation);
  return {
    operation,
    headers: { "azure-asyncoperation": operationUrl(c, request, o.location, name), ...retryAfterHeader(c) },
  };
}

/** The polling URL of an operation ARM is still running for this VM, if any. */
export function pendingOperationUrl(
  c: LroContext,
  request: StandinRequest,
  location: string,
  resourceGroup: string,
  vmName: string,
  kind: WireOperation["kind"],
): string | undefined {
  for (const op of c.state.operations.values()) {
    if (
      op.status === "InProgress" &&
      op.kind === kind &&
      op.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
      op.vmName.toLowerCase() === vmName.toLowerCase()
    )
      return operationUrl(c, request, location, op.name);
  }
  return undefined;
}

function operationUrl(c: LroContext, request: StandinRequest, location: string, name: string): string {
  return `${request.origin}/subscriptions/${c.state.subscriptionId}/providers/Microsoft.Compute/locations/${location}/operations/${name}?api-version=${request.query.get("api-version") ?? "2026-04-01"}`;
}
