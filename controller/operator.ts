import { hostname } from "node:os";
import { Registry } from "prom-client";
import type { Clock } from "../lib/clock.ts";
import { systemClock } from "../lib/clock.ts";
import { untilAborted } from "../lib/abort.ts";
import type { Logger } from "../lib/log.ts";
import { gpuPodScope, nodeScope } from "../kube/caches.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { KubeEventRecorder } from "../kube/events.ts";
import { InProcessPlannerClient, type PlannerClient } from "../planner/grpc/index.ts";
import { startPlannerServer } from "../planner/grpc/server.ts";
import { SolvePool } from "../planner/pool/pool.ts";
import { resources } from "../kube/resources.ts";
import type { LeaderTiming } from "../kube/runtime/leader.ts";
import { Manager, type Runnable } from "../kube/runtime/manager.ts";
import type { ServingTls } from "../kube/runtime/servers.ts";
import { generateServingCertificates } from "../lib/certs.ts";
import { bearerToken, DelegatedAuth, kubeReviewApi } from "../kube/auth/review.ts";
import { plannerCallVerb, type CallerCheck } from "../planner/grpc/auth.ts";
import { defaultSchedulerName, registerWorkspaceController } from "./workspace/index.ts";
import { instrumentPlanner } from "./planner-metrics.ts";
import {
  OfferingCache,
  registerProvisioner,
  type CloudProvider,
  type LivenessOptions,
} from "../provisioner/index.ts";
import { startGpuExtender, type GpuExtender } from "../scheduler/index.ts";
import {
  webhookComponent,
  type Route,
  type WebhookComponent,
  type WebhookRegistration,
} from "../webhook/index.ts";
import type { NodeProvisionerConfig } from "./nodeprovision/index.ts";
import { registerNodeMetrics } from "./nodeprovision/metrics.ts";
import { HuggingFaceHub, type HuggingFaceSource } from "../presets/index.ts";
import { HuggingFaceModels } from "./workspace/models.ts";
import { registerInferenceSetController } from "./inferenceset/index.ts";

export const componentNames = ["workspace", "provisioner", "planner", "extender"] as const;
/**
 * The admission webhook is a component too, but one that needs to know how the API server
 * reaches it (OperatorOptions.webhook), so it is named separately: callers that build the
 * operator from componentNames (tests that run it in-process) get no webhook unless they ask.
 */
export const webhookComponentName = "webhook";
export const allComponentNames = [...componentNames, webhookComponentName] as const;
export { defaultSchedulerName };
export type OperatorComponent = (typeof allComponentNames)[number];

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
  leaderElection?: { namespace: string; name?: string; identity?: string } & Partial<LeaderTiming>;
  workspaceConcurrency?: number;
  /**
   * Where Machines become nodes; required with the provisioner component. A function gets the
   * manager, so a backend that writes to the cluster (the local cloud) uses its fenced client.
   */
  cloud?: CloudProvider | ((manager: Manager) => CloudProvider);
  /**
   * How workspaces get nodes (default builtin). Only builtin writes Machines, so only builtin runs
   * the provisioner component; the other modes leave nodes to Karpenter, gpu-provisioner or the user.
   */
  nodeProvisioner?: NodeProvisionerConfig;
  /** spec.schedulerName of the workspace pods (default: the cluster's default scheduler). */
  schedulerName?: string;
  /** Where the admission webhook listens and how it is registered; required with the webhook component. */
  webhook?: { address: string; registration: WebhookRegistration; extraRoutes?: Record<string, Route> };
  /** Called with the webhook component once built (tests read its URL). */
  onWebhook?: (webhook: WebhookComponent) => void;
  /** The Machine deadlines (registration 15 min, launch 10 min); tests shorten them. */
  machineLiveness?: Partial<LivenessOptions>;
  /** The Hugging Face Hub (or a mirror, as HF_ENDPOINT) that sizes models named by their id. */
  hfEndpoint?: string;
  /** Tests: a ready Hub client instead of one built for hfEndpoint. */
  huggingFace?: HuggingFaceSource;
  /**
   * Check the callers of /metrics and of the planner's gRPC service with the API server
   * (TokenReview, then a SubjectAccessReview of the path and verb; kube/auth), and serve both over
   * TLS. Off, both are open, in plaintext, to whoever reaches the port: right on loopback
   * (`kaito up`, in-process tests) only.
   */
  endpointAuth?: boolean;
}

/** A serving certificate for this pod's name and loopback, signed by a CA made with it. */
function selfSignedTls(clock: Clock): ServingTls {
  const { cert, key } = generateServingCertificates({
    dnsNames: [hostname(), "localhost"],
    ipAddresses: ["127.0.0.1"],
    now: clock.now(),
    caName: "kaito-ts metrics CA",
  });
  return { cert, key };
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
  // Reviews change nothing, so they go through the unfenced client: a replica that does not lead
  // still checks its callers.
  const auth = o.endpointAuth
    ? new DelegatedAuth({ api: kubeReviewApi(o.client), clock, log: o.log.with({ component: "auth" }) })
    : undefined;
  // Checked callers send their tokens: /metrics and the planner then speak TLS, as
  // controller-runtime's secure metrics do, with a certificate made at start (callers skip
  // verifying it: nothing could pin it in advance).
  const servingTls = o.endpointAuth ? selfSignedTls(clock) : undefined;
  const manager = new Manager({
    client: o.client,
    registry: o.registry ?? new Registry(),
    clock,
    log: o.log,
    metricsAddress: o.addresses.metrics,
    metricsAuth: auth && ((token, attributes) => auth.review(token, attributes)),
    metricsTls: servingTls,
    healthAddress: o.addresses.health,
    leaderElection: o.leaderElection && {
      ...o.leaderElection,
      name: o.leaderElection.name ?? "kaito-ts-manager",
      identity: o.leaderElection.identity ?? `${hostname()}-${process.pid}`,
    },
  });
  const cloud = typeof o.cloud === "function" ? o.cloud(manager) : o.cloud;
  // Plans are solved in worker threads, so no solve delays the probes, the lease renewals, the
  // extender or the controllers that this thread serves.
  const pool = o.planner ? undefined : new SolvePool({ clock });
  const local =
    pool && new InProcessPlannerClient({ solve: (problem, options) => pool.solve(problem, options) });
  const planner = instrumentPlanner(o.planner ?? local!, manager.registry, clock);
  if (pool) manager.add(poolRunnable(pool));
  const recorder = new KubeEventRecorder({
    client: manager.client,
    component: "kaito-ts",
    clock,
    log: o.log,
  });

  const plannerCallers: CallerCheck | undefined =
    auth && ((header, method) => auth.review(bearerToken(header), { path: method, verb: plannerCallVerb }));
  if (o.components.has("planner"))
    manager.add(plannerRunnable(planner, o.addresses.planner, clock, o.log, plannerCallers, servingTls));
  if (o.components.has("extender")) manager.add(extenderRunnable(manager, o.addresses.extender));
  if (o.components.has(webhookComponentName)) {
    if (!o.webhook) throw new Error("the webhook component needs its address and registration");
    const { host, port } = splitAddress(o.webhook.address);
    const webhook = webhookComponent({
      // The leader's caBundle writes must stop with its lease; every replica may create the Secret.
      client: manager.client,
      clock,
      log: o.log.with({ component: "webhook" }),
      host,
      port,
      registration: o.webhook.registration,
      extraRoutes: o.webhook.extraRoutes,
      registry: manager.registry,
    });
    // Every replica serves admission, the leader's and the others', as the Service spreads calls.
    manager.add(webhook.serve);
    if (webhook.caBundles) manager.add(webhook.caBundles);
    manager.addReadyCheck("admission-webhook", () => webhook.notReady());
    o.onWebhook?.(webhook);
  }
  const builtin = (o.nodeProvisioner?.mode ?? "builtin") === "builtin";
  const runsProvisioner = builtin && o.components.has("provisioner");
  if (runsProvisioner && !cloud) throw new Error("the provisioner component needs a cloud backend");
  // Plans use what the cloud offers only where the provisioner runs with that cloud: a workspace
  // component beside a remote provisioner cannot know which cloud launches its Machines.
  const offering =
    cloud && o.components.has("workspace") && runsProvisioner
      ? new OfferingCache({ cloud, clock, log: o.log.with({ component: "offering" }) })
      : undefined;
  if (offering) {
    manager.add({ name: "cloud-offering", needsLeaderElection: true, start: (s) => offering.start(s) });
  }
  if (o.components.has("workspace")) {
    const hub = o.huggingFace ?? new HuggingFaceHub({ endpoint: o.hfEndpoint, clock });
    registerWorkspaceController(manager, {
      planner,
      recorder,
      concurrency: o.workspaceConcurrency,
      schedulerName: o.schedulerName ?? defaultSchedulerName,
      offering,
      nodeProvisioner: o.nodeProvisioner,
      models: new HuggingFaceModels({ client: o.client, hub }),
    });
    // InferenceSets are Workspaces in number: the same component runs them.
    registerInferenceSetController(manager, { recorder });
  }
  // The other modes make no Machines, but the provisioner component still reports the GPU gauges
  // and, for NodeClaims, their provisioning latency and failures.
  const mode = o.nodeProvisioner?.mode ?? "builtin";
  if (mode !== "builtin" && o.components.has("provisioner")) registerNodeMetrics(manager, mode);
  if (cloud && runsProvisioner) {
    registerProvisioner(manager, {
      cloud,
      recorder,
      clock,
      log: o.log,
      onCapacityFailure: offering && (() => offering.invalidate()),
      liveness: o.machineLiveness,
    });
  }
  return manager;
}

/**
 * Every replica serves the extender: kube-scheduler reaches the one next to it. It reads the
 * manager's shared pod and node caches, which therefore run on every replica.
 */
function extenderRunnable(manager: Manager, address: string): Runnable {
  let extender: GpuExtender | undefined;
  const shared = {
    pods: manager.informer<KubeObject>(resources.pods, { ...gpuPodScope, everyReplica: true }),
    nodes: manager.informer<KubeObject>(resources.nodes, { ...nodeScope, everyReplica: true }),
  };
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
        shared,
        host,
        port,
        clock: manager.clock,
        log: manager.log.with({ component: "extender" }),
      });
      manager.log.info("scheduler extender listening", { url: extender.url });
      // The signal may have aborted while the server started: a listener added now would never fire.
      await untilAborted(signal);
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
      // The signal may have aborted while the manager started: a listener added now would never fire.
      await untilAborted(signal);
      await pool.close();
    },
  };
}

function plannerRunnable(
  planner: PlannerClient,
  address: string,
  clock: Clock,
  log: Logger,
  authenticate: CallerCheck | undefined,
  tls: ServingTls | undefined,
): Runnable {
  return {
    name: "planner-grpc",
    needsLeaderElection: false,
    async start(signal) {
      const { host, port } = splitAddress(address);
      const server = await startPlannerServer({ planner, host, port, clock, authenticate, tls });
      log.info("planner gRPC service listening", { address: server.address });
      // The signal may have aborted while the server started: a listener added now would never fire.
      await untilAborted(signal);
      await server.shutdown(5_000);
    },
  };
}
