import { hostname } from "node:os";
import { Registry } from "prom-client";
import type { Clock } from "../lib/clock.ts";
import { systemClock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeEventRecorder } from "../kube/events.ts";
import { InProcessPlannerClient, type PlannerClient } from "../planner/grpc/index.ts";
import { startPlannerServer } from "../planner/grpc/server.ts";
import { SolvePool } from "../planner/pool/pool.ts";
import { Manager, type Runnable } from "../kube/runtime/manager.ts";
import { defaultSchedulerName, registerWorkspaceController } from "./workspace/index.ts";
import { instrumentPlanner } from "./planner-metrics.ts";
import { OfferingCache, registerProvisioner, type CloudProvider } from "../provisioner/index.ts";
import { startGpuExtender, type GpuExtender } from "../scheduler/index.ts";

export const componentNames = ["workspace", "provisioner", "planner", "extender"] as const;
export { defaultSchedulerName };
export type OperatorComponent = (typeof componentNames)[number];

/** host:port of every server; port 0 picks a free one (tests). */
export interface OperatorAddresses {
  metrics: string;
  health: string;
  planner: string;
  extender: string;
}

export const defaultAddresses: OperatorAddresses = {
  metrics: "0.0.0.0:8080",
  health: "0.0.0.0:8081",
  planner: "0.0.0.0:9090",
  extender: "0.0.0.0:8888",
};

export interface OperatorOptions {
  client: KubeClient;
  components: ReadonlySet<OperatorComponent>;
  addresses: OperatorAddresses;
  log: Logger;
  clock?: Clock;
  registry?: Registry;
  /** The planner the controller asks: in-process by default, or a remote one over gRPC. */
  planner?: PlannerClient;
  leaderElection?: { namespace: string; name?: string; identity?: string };
  workspaceConcurrency?: number;
  /** Where Machines become nodes; required with the provisioner component. */
  cloud?: CloudProvider;
  /** spec.schedulerName of the workspace pods (default: the cluster's default scheduler). */
  schedulerName?: string;
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i) || "0.0.0.0", port: Number(address.slice(i + 1)) };
}

/**
 * Builds the manager with every component the options select, each with its dependencies spelled
 * out here and nowhere else.
 */
export function buildOperator(o: OperatorOptions): Manager {
  const clock = o.clock ?? systemClock;
  const manager = new Manager({
    client: o.client,
    registry: o.registry ?? new Registry(),
    clock,
    log: o.log,
    metricsAddress: o.addresses.metrics,
    healthAddress: o.addresses.health,
    leaderElection: o.leaderElection && {
      namespace: o.leaderElection.namespace,
      name: o.leaderElection.name ?? "kaito-ts-manager",
      identity: o.leaderElection.identity ?? `${hostname()}-${process.pid}`,
    },
  });
  // Plans are solved in worker threads, so no solve delays the probes, the lease renewals, the
  // extender or the controllers that this thread serves.
  const pool = o.planner ? undefined : new SolvePool({ clock });
  const local =
    pool && new InProcessPlannerClient({ solve: (problem, options) => pool.solve(problem, options) });
  const planner = instrumentPlanner(o.planner ?? local!, manager.registry, clock);
  if (pool) manager.add(poolRunnable(pool));
  const recorder = new KubeEventRecorder({ client: o.client, component: "kaito-ts", clock, log: o.log });

  if (o.components.has("planner")) manager.add(plannerRunnable(planner, o.addresses.planner, clock, o.log));
  if (o.components.has("extender")) manager.add(extenderRunnable(manager, o.addresses.extender));
  if (o.components.has("provisioner") && !o.cloud)
    throw new Error("the provisioner component needs a cloud backend");
  // Plans use what the cloud offers only where the provisioner runs with that cloud: a workspace
  // component beside a remote provisioner cannot know which cloud launches its Machines.
  const offering =
    o.cloud && o.components.has("workspace") && o.components.has("provisioner")
      ? new OfferingCache({ cloud: o.cloud, clock, log: o.log.with({ component: "offering" }) })
      : undefined;
  if (offering) {
    manager.add({ name: "cloud-offering", needsLeaderElection: true, start: (s) => offering.start(s) });
  }
  if (o.components.has("workspace")) {
    registerWorkspaceController(manager, {
      planner,
      recorder,
      concurrency: o.workspaceConcurrency,
      schedulerName: o.schedulerName ?? defaultSchedulerName,
      offering,
    });
  }
  if (o.cloud && o.components.has("provisioner")) {
    registerProvisioner(manager, {
      cloud: o.cloud,
      recorder,
      clock,
      log: o.log,
      onCapacityFailure: offering && (() => offering.invalidate()),
    });
  }
  return manager;
}

/** Every replica serves the extender: kube-scheduler reaches the one next to it. */
function extenderRunnable(manager: Manager, address: string): Runnable {
  let extender: GpuExtender | undefined;
  // The health port is what a pod's probes read: it must not say ready while the extender, which
  // answers from its own node and pod watches, would still wave GPU pods through unjudged.
  manager.addReadyCheck("scheduler-extender", () =>
    extender?.cluster.view.synced() ? undefined : "the extender's node and pod watches have not listed yet",
  );
  return {
    name: "scheduler-extender",
    needsLeaderElection: false,
    async start(signal) {
      const { host, port } = splitAddress(address);
      extender = await startGpuExtender({
        client: manager.client,
        registry: manager.registry,
        host,
        port,
        clock: manager.clock,
        log: manager.log.with({ component: "extender" }),
      });
      manager.log.info("scheduler extender listening", { url: extender.url });
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await extender.close();
    },
  };
}

/** Ends the planner's worker threads when the manager stops. */
function poolRunnable(pool: SolvePool): Runnable {
  return {
    name: "planner-workers",
    needsLeaderElection: false,
    async start(signal) {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await pool.close();
    },
  };
}

function plannerRunnable(planner: PlannerClient, address: string, clock: Clock, log: Logger): Runnable {
  return {
    name: "planner-grpc",
    needsLeaderElection: false,
    async start(signal) {
      const { host, port } = splitAddress(address);
      const server = await startPlannerServer({ planner, host, port, clock });
      log.info("planner gRPC service listening", { address: server.address });
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await server.shutdown(5_000);
    },
  };
}
