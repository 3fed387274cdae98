import {
  insufficientCapacityEventReason,
  instanceTypeLabel,
  nodeClaimKind,
  type NodeClaim,
  type NodeClassReference,
  type Workspace,
} from "../../crds/index.ts";
import type { Clock } from "../../lib/clock.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { findCondition, type Condition } from "../../kube/conditions.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import { resources as api } from "../../kube/resources.ts";
import { type ClaimKind, type LaunchFailure } from "./claims.ts";
import { ClaimProvisioner } from "./claim-provisioner.ts";
import type { SharedNodeUsers } from "./sharing.ts";
import { defaultNodeClass, gpuProvisionerNodeClaim, karpenterNodeClaim } from "./nodeclaim-shapes.ts";
import { capacityFailureReasons, type NodeRequest } from "./types.ts";

/** The instance type a NodeClaim asks for: the first value of its requirement, as gpu-provisioner reads it. */
export function nodeClaimInstanceType(nc: NodeClaim): string | undefined {
  return nc.spec?.requirements?.find((r) => r.key === instanceTypeLabel && r.operator === "In")?.values?.[0];
}

const conditions = (nc: NodeClaim) => nc.status?.conditions as Condition[] | undefined;

/**
 * A failure the claim reports itself. Karpenter core (v1.13, lifecycle/launch.go) never sets
 * Launched=False: a cloud error leaves it Unknown and is retried until the 5-minute launch timeout
 * deletes the claim (liveness.go); gpu-provisioner and KAITO use Launched=False for a size that
 * cannot be had. Both mean "not this size now".
 */
export function nodeClaimFailure(nc: NodeClaim): LaunchFailure | undefined {
  const launched = findCondition(conditions(nc), "Launched");
  if (launched?.status !== "False") return undefined;
  const reason = capacityFailureReasons.has(launched.reason ?? "")
    ? launched.reason!
    : "InsufficientCapacity";
  return {
    reason,
    message: launched.message || `${nodeClaimInstanceType(nc) ?? "the size"} could not be launched`,
  };
}

/** A core/v1 Event as Karpenter's recorder writes it (client-go's record package). */
export interface CoreEvent extends KubeObject {
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  firstTimestamp?: string;
  eventTime?: string;
  series?: { lastObservedTime?: string };
  involvedObject?: { kind?: string; name?: string; uid?: string };
}

function eventTime(e: CoreEvent): number {
  const times = [
    e.series?.lastObservedTime,
    e.lastTimestamp,
    e.eventTime,
    e.firstTimestamp,
    e.metadata?.creationTimestamp,
  ]
    .map((t) => Date.parse(t ?? ""))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : 0;
}

/**
 * Karpenter deletes a NodeClaim whose launch hit insufficient capacity (quota, no capacity in the
 * zone, a NodeClass that does not exist) and says so only in an InsufficientCapacityError event on
 * it (lifecycle/launch.go, events.go). Such an event from the last `windowMs` is the failure; an
 * older one belongs to a launch already handled, e.g. the one a named size's back-off retries.
 */
export function vanishedLaunchFailure(
  events: readonly CoreEvent[],
  name: string,
  nowMs: number,
  windowMs: number,
): LaunchFailure | undefined {
  const recent = events
    .filter(
      (e) =>
        e.reason === insufficientCapacityEventReason &&
        e.involvedObject?.kind === nodeClaimKind &&
        e.involvedObject?.name === name &&
        nowMs - eventTime(e) <= windowMs,
    )
    .sort((a, b) => eventTime(b) - eventTime(a))[0];
  return recent && { reason: "InsufficientCapacity", message: recent.message ?? "insufficient capacity" };
}

/** Failure events older than this are a launch already handled (the controller's back-off is 60 s). */
export const failureEventWindowMs = 50_000;

export type NodeClaimShape = "karpenter" | "azure-gpu-provisioner";

export interface NodeClaimProvisionerOptions {
  shape: NodeClaimShape;
  /** The karpenter shape's node class (default: AKS Node Auto Provisioning's). */
  nodeClass?: NodeClassReference;
  client: KubeClient;
  recorder: EventRecorder;
  clock: Clock;
  nodeClaims: Informer<NodeClaim & KubeObject>;
  /** The workspaces sharing claims they do not own (sharing.ts). */
  users?: SharedNodeUsers;
}

/**
 * `karpenter` and `azure-gpu-provisioner`: karpenter.sh/v1 NodeClaims, one per node, for whatever
 * serves them (an installed Karpenter such as AKS Node Auto Provisioning, or gpu-provisioner >=
 * v0.3). Progress is the claim's own Ready condition and status.nodeName. A launch failure is the
 * claim's Launched=False (gpu-provisioner) or, for Karpenter, the claim's disappearance with an
 * InsufficientCapacityError event: the size is then replanned, never created again by name.
 */
export class NodeClaimProvisioner extends ClaimProvisioner<NodeClaim & KubeObject> {
  readonly mode: NodeClaimShape;
  readonly kind = "NodeClaim";

  constructor(o: NodeClaimProvisionerOptions) {
    super({
      kind: nodeClaimKindFor(o),
      client: o.client,
      recorder: o.recorder,
      cache: o.nodeClaims,
      users: o.users,
    });
    this.mode = o.shape;
  }
}

/** The NodeClaims of a shape: how they are written, read and found to have failed. */
function nodeClaimKindFor(o: NodeClaimProvisionerOptions): ClaimKind<NodeClaim & KubeObject> {
  const nodeClass = o.nodeClass;
  return {
    kind: "NodeClaim",
    resource: api.nodeClaims,
    desired: (ws: Workspace, request: NodeRequest, name: string) =>
      o.shape === "karpenter"
        ? karpenterNodeClaim(ws, request, name, nodeClass ?? defaultNodeClass)
        : gpuProvisionerNodeClaim(ws, request, name),
    instanceType: nodeClaimInstanceType,
    readyNode: (nc) =>
      findCondition(conditions(nc), "Ready")?.status === "True" ? nc.status?.nodeName : undefined,
    failure: nodeClaimFailure,
    async vanishedFailure(name) {
      const list = await o.client.list<CoreEvent>(api.events, {
        fieldSelector: `involvedObject.kind=${nodeClaimKind},involvedObject.name=${name},reason=${insufficientCapacityEventReason}`,
      });
      return vanishedLaunchFailure(list.items, name, o.clock.now(), failureEventWindowMs);
    },
    launch(nc) {
      const c = findCondition(conditions(nc), "Launched");
      return { launched: c?.status, launchedAt: c?.lastTransitionTime };
    },
  };
}
