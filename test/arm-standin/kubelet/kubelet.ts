import type { KubeClient, KubeObject } from "../../../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../../../kube/errors.ts";
import { Informer } from "../../../kube/informer.ts";
import { resources } from "../../../kube/resources.ts";
import { kwokNodeAnnotation } from "../../../localcluster/components.ts";
import { findSku } from "../../../planner/catalog/index.ts";
import type { VmBoot, VmHooks } from "../lro.ts";
import type { WireVm } from "../state.ts";
import {
  bootstrapTokenNamespace,
  bootstrapTokenSecretName,
  checkBootstrapToken,
  tokenIdOf,
  type SecretLike,
} from "./bootstrap-token.ts";
import {
  kubeadmJoinOf,
  parseNodeLabels,
  parseTaints,
  readUserData,
  type RegisteredTaint,
} from "./cloud-init.ts";

// The kubelets of the stand-in's VMs. A VM that finishes creating boots: cloud-init reads its
// customData, runs the kubeadm join in it, and the kubelet registers a Node only if the bootstrap
// token authenticates against the cluster's bootstrap-token Secrets. A VM without join data, or
// with a token that is malformed, unknown, expired or not usable, boots and never registers, as on
// Azure. The Node is a kwok Node (kwok then plays its heartbeats and pods) carrying what the
// kubelet and cloud-provider-azure's node manager put on a real one, and nvidia.com/gpu only once
// an NVIDIA device plugin pod runs on it, as the device plugin registers the GPUs with the kubelet.

export const gpuResource = "nvidia.com/gpu";

/** What happened when a VM booted. */
export interface JoinRecord {
  vm: string;
  joined: boolean;
  /** The Node it registered as, when it joined. */
  node?: string;
  /** The bootstrap token's id (never its secret), when the user data had a well-formed one. */
  tokenId?: string;
  /** Why it did not join, or "registered". */
  reason: string;
}

export interface VmKubeletsOptions {
  client: KubeClient;
  /** Token expirations are judged against this clock (default: the wall clock). */
  now?: () => number;
}

/** A pod's fields the device-plugin check reads. */
interface PodLike extends KubeObject {
  spec?: { nodeName?: string; containers?: { image?: string }[] };
  status?: { phase?: string };
}
interface NodeLike extends KubeObject {
  spec?: { providerID?: string; taints?: RegisteredTaint[] };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

/** The VM hooks of a stand-in whose VMs join the cluster `client` talks to. Call close() when done. */
export class VmKubelets implements VmHooks {
  readonly joins: JoinRecord[] = [];
  private readonly client: KubeClient;
  private readonly now: () => number;
  /** GPUs of each Node a VM registered, which its device plugin advertises once it runs. */
  private readonly gpusByNode = new Map<string, number>();
  private readonly advertising = new Set<string>();
  private readonly abort = new AbortController();
  private readonly pods: Informer<PodLike>;
  private readonly nodes: Informer<NodeLike>;
  private readonly running: Promise<void>[] = [];

  constructor(o: VmKubeletsOptions) {
    this.client = o.client;
    this.now = o.now ?? Date.now;
    this.pods = new Informer<PodLike>({
      client: o.client,
      resource: resources.pods,
      fieldSelector: "status.phase=Running",
    });
    this.nodes = new Informer<NodeLike>({ client: o.client, resource: resources.nodes });
    this.pods.on((e) => this.advertiseGpus(e.object.spec?.nodeName));
    this.nodes.on((e) => this.advertiseGpus(e.object.metadata?.name));
  }

  /** Starts watching pods and nodes (for the device plugin) and waits for the first lists. */
  async start(): Promise<this> {
    this.running.push(this.pods.start(this.abort.signal), this.nodes.start(this.abort.signal));
    await Promise.all([this.pods.waitForSync(), this.nodes.waitForSync()]);
    return this;
  }

  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.running);
  }

  async onVmCreated(vm: WireVm, boot: VmBoot): Promise<void> {
    const record = (r: Omit<JoinRecord, "vm">): void => {
      this.joins.push({ vm: vm.name, ...r });
    };
    const userData = readUserData(boot.customData);
    if ("ignored" in userData) return record({ joined: false, reason: userData.ignored });
    const join = kubeadmJoinOf(userData.text);
    if (!join) return record({ joined: false, reason: "nothing in the user data runs kubeadm join" });
    if (!join.token) return record({ joined: false, reason: "the kubeadm join has no bootstrap token" });
    const tokenId = tokenIdOf(join.token);
    const secret = tokenId ? await this.secretOf(tokenId) : undefined;
    const check = checkBootstrapToken(join.token, secret, this.now());
    if (!check.ok) return record({ joined: false, reason: check.reason, ...(tokenId ? { tokenId } : {}) });
    const labels = parseNodeLabels(join.nodeLabels);
    if ("refused" in labels) return record({ joined: false, tokenId: check.tokenId, reason: labels.refused });
    const taints = parseTaints(join.registerWithTaints);
    if ("refused" in taints) return record({ joined: false, tokenId: check.tokenId, reason: taints.refused });

    const node = registeredNode(vm, labels, taints);
    const name = node.metadata!.name!;
    this.gpusByNode.set(name, gpusOf(vm));
    await this.client.create<NodeLike>(resources.nodes, node).catch((e: unknown) => {
      // The same VM finishing twice (a repeated create) finds its node there already.
      if (!isAlreadyExists(e)) throw e;
    });
    record({ joined: true, node: name, tokenId: check.tokenId, reason: "registered" });
  }

  /** cloud-provider-azure's node lifecycle controller deletes the Node of a VM that is gone. */
  async onVmDeleted(vm: WireVm): Promise<void> {
    const name = nodeNameOf(vm);
    this.gpusByNode.delete(name);
    await this.client.delete(resources.nodes, name).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  private async secretOf(tokenId: string): Promise<SecretLike | undefined> {
    try {
      return await this.client.get<SecretLike & KubeObject>(
        resources.secrets,
        bootstrapTokenSecretName(tokenId),
        bootstrapTokenNamespace,
      );
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Level-triggered: a registered, Ready Node with a running NVIDIA device plugin pod gets its
   * GPUs in capacity and allocatable, once.
   */
  private advertiseGpus(nodeName: string | undefined): void {
    if (!nodeName || this.advertising.has(nodeName)) return;
    const gpus = this.gpusByNode.get(nodeName);
    const node = this.nodes.get(nodeName);
    if (!gpus || !node || node.metadata?.deletionTimestamp) return;
    const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const shown = node.status?.allocatable?.[gpuResource] === String(gpus);
    if (!ready || shown) return;
    const plugin = this.pods
      .list()
      .some(
        (p) =>
          p.spec?.nodeName === nodeName &&
          p.status?.phase === "Running" &&
          !p.metadata?.deletionTimestamp &&
          (p.spec.containers ?? []).some((c) => isDevicePluginImage(c.image)),
      );
    if (!plugin) return;
    this.advertising.add(nodeName);
    const count = String(gpus);
    void this.client
      .patch(
        resources.nodes,
        nodeName,
        undefined,
        { status: { capacity: { [gpuResource]: count }, allocatable: { [gpuResource]: count } } },
        "merge",
        { subresource: "status" },
      )
      .catch(() => {
        // The node went away meanwhile; a later event tries again if it did not.
      })
      .finally(() => {
        this.advertising.delete(nodeName);
        this.advertiseGpus(nodeName);
      });
  }
}

/** Starts the kubelets of a stand-in's VMs; hand the result to `standin.hooks.use()`. */
export function startVmKubelets(o: VmKubeletsOptions): Promise<VmKubelets> {
  return new VmKubelets(o).start();
}

/** NVIDIA's k8s-device-plugin image, from nvcr.io or a mirror (mcr.microsoft.com/oss/v2/nvidia/...). */
export function isDevicePluginImage(image: string | undefined): boolean {
  return /(^|\/)k8s-device-plugin(:|@|$)/.test(image ?? "");
}

/** The node name kubelet registers: the VM's computer name (its hostname), lower-cased. */
function nodeNameOf(vm: WireVm): string {
  const os = vm.properties.osProfile as { computerName?: string } | undefined;
  return (os?.computerName ?? vm.name).toLowerCase();
}

function sizeOf(vm: WireVm): string {
  return String((vm.properties.hardwareProfile as { vmSize?: string } | undefined)?.vmSize ?? "");
}

function gpusOf(vm: WireVm): number {
  return findSku(sizeOf(vm))?.gpus ?? 0;
}

/**
 * The Node a joined VM registers: kubelet's own labels and the ones its flags give, the labels
 * and providerID cloud-provider-azure's node manager sets (the resource group in lower case, as
 * Azure writes it), the taints it registered with, and capacity without GPUs, which the device
 * plugin adds. kwok's annotation makes kwok play it.
 */
export function registeredNode(
  vm: WireVm,
  flagLabels: Record<string, string>,
  taints: RegisteredTaint[],
): NodeLike {
  const name = nodeNameOf(vm);
  const size = sizeOf(vm);
  const sku = findSku(size);
  if (!sku)
    throw new Error(`the stand-in's VM ${vm.name} has size ${size}, which the catalogue does not know`);
  const location = vm.location.toLowerCase();
  const armZone = vm.zones?.[0];
  const providerID = `azure://${vm.id.replace(/(\/resourceGroups\/)([^/]+)/i, (_, p: string, rg: string) => `${p}${rg.toLowerCase()}`)}`;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        ...flagLabels,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": size,
        "topology.kubernetes.io/region": location,
        "topology.kubernetes.io/zone": armZone ? `${location}-${armZone}` : "0",
      },
      annotations: { [kwokNodeAnnotation]: "fake" },
    },
    spec: { providerID, taints },
    status: { capacity: { cpu: String(sku.vcpus), memory: `${sku.memoryGiB}Gi`, pods: "110" } },
  };
}
