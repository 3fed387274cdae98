import { errorMessage } from "../lib/errors.ts";
import { silentLogger, type Logger } from "../lib/log.ts";
import type { Binder } from "./binder.ts";
import type { ClusterView } from "./cluster-view.ts";
import { ExtenderRequestError } from "./errors.ts";
import { toGpuNode } from "./gpu-node.ts";
import { toGpuPod, workspaceKey, type GpuPod } from "./gpu-pod.ts";
import { filter, prioritize, type Candidate } from "./placement.ts";
import {
  decodeBindingArgs,
  decodeExtenderArgs,
  encodeHostPriorities,
  type BindingResult,
  type ExtenderArgs,
  type FilterResult,
  type HostPriorityList,
} from "./wire.ts";

export interface ExtenderDeps {
  view: ClusterView;
  /** Without one the extender does not offer the bind verb. */
  binder?: Binder;
  log?: Logger;
}

/**
 * The three verbs over decoded JSON, without HTTP. Filter and prioritize are synchronous: they
 * read the cluster view and call the pure functions in placement.ts.
 */
export class Extender {
  private readonly view: ClusterView;
  private readonly binder: Binder | undefined;
  private readonly log: Logger;
  private readonly recent = new RecentPods(4096);

  constructor(deps: ExtenderDeps) {
    this.view = deps.view;
    this.binder = deps.binder;
    this.log = deps.log ?? silentLogger;
  }

  get binds(): boolean {
    return this.binder !== undefined;
  }

  filter(body: unknown): FilterResult {
    const args = decodeExtenderArgs(body);
    const pod = readPod(args);
    const result: FilterResult = {
      Nodes: null,
      NodeNames: null,
      FailedNodes: {},
      FailedAndUnresolvableNodes: {},
      Error: "",
    };
    if (pod.gpus <= 0) {
      // Not ours to judge: hand back exactly what came in.
      if (args.nodes) result.Nodes = { items: args.nodes };
      if (args.nodeNames) result.NodeNames = args.nodeNames;
      return result;
    }
    if (!this.view.synced()) {
      result.Error = "the GPU extender's cluster view has not synced yet";
      return result;
    }
    this.recent.remember(pod);
    const candidates = this.candidates(pod, args);
    const outcome = filter(pod, candidates);
    result.FailedNodes = outcome.failed;
    result.FailedAndUnresolvableNodes = outcome.failedAndUnresolvable;
    if (args.nodes) result.Nodes = { items: outcome.feasible.map((i) => args.nodes![i]) };
    if (args.nodeNames) result.NodeNames = outcome.feasible.map((i) => candidates[i]!.name);
    return result;
  }

  prioritize(body: unknown): HostPriorityList {
    const args = decodeExtenderArgs(body);
    const pod = readPod(args);
    // Unsynced, we have no opinion: zero everywhere leaves kube-scheduler's own order intact.
    const judged = pod.gpus > 0 && this.view.synced() ? pod : { ...pod, gpus: 0 };
    const candidates = this.candidates(judged, args);
    return encodeHostPriorities(candidates, prioritize(judged, candidates));
  }

  async bind(body: unknown): Promise<BindingResult> {
    if (!this.binder) throw new ExtenderRequestError("NotFound", "this extender does not bind pods");
    const args = decodeBindingArgs(body);
    const key = `${args.podNamespace}/${args.podName}`;
    const known = this.recent.take(args.podUID, key);
    if (known) {
      this.view.assume({
        key,
        uid: args.podUID,
        nodeName: args.node,
        gpus: known.gpus,
        ...(known.workspace ? { workspace: workspaceKey(known.workspace) } : {}),
      });
    }
    try {
      await this.binder.bind({
        namespace: args.podNamespace,
        name: args.podName,
        uid: args.podUID,
        nodeName: args.node,
      });
      return { Error: "" };
    } catch (e) {
      if (known) this.view.forget(key, args.podUID);
      const message = `binding pod ${key} to node ${args.node} failed: ${errorMessage(e)}`;
      this.log.warn("bind failed", { pod: key, node: args.node, error: errorMessage(e) });
      return { Error: message };
    }
  }

  private candidates(pod: GpuPod, args: ExtenderArgs): Candidate[] {
    const ws = pod.workspace ? workspaceKey(pod.workspace) : undefined;
    const view = this.view;
    if (args.nodes) {
      return args.nodes.map((raw, i) => {
        const node = toGpuNode(raw);
        if (!node) throw new ExtenderRequestError("InvalidRequest", `Nodes.items[${i}] has no metadata.name`);
        const usage = view.lookup(node.name);
        return {
          name: node.name,
          node,
          gpusInUse: usage?.gpusInUse ?? 0,
          workspaceReplicas: (ws !== undefined && usage?.replicas?.get(ws)) || 0,
        };
      });
    }
    const names = args.nodeNames!;
    const out = new Array<Candidate>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const usage = view.lookup(name);
      out[i] = {
        name,
        node: usage?.node,
        gpusInUse: usage?.gpusInUse ?? 0,
        workspaceReplicas: (ws !== undefined && usage?.replicas?.get(ws)) || 0,
      };
    }
    return out;
  }
}

function readPod(args: ExtenderArgs): GpuPod {
  const pod = toGpuPod(args.pod);
  if (!pod) throw new ExtenderRequestError("InvalidRequest", "the Pod has no metadata.name");
  return pod;
}

/**
 * The GPU pods seen in recent filter calls, so that bind (which only receives names) knows how
 * many GPUs to count. Bounded: the oldest entries go first.
 */
class RecentPods {
  private readonly byId = new Map<string, GpuPod>();
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  remember(pod: GpuPod): void {
    const id = pod.uid || pod.key;
    this.byId.delete(id);
    this.byId.set(id, pod);
    if (this.byId.size > this.limit) this.byId.delete(this.byId.keys().next().value!);
  }

  take(uid: string, key: string): GpuPod | undefined {
    const id = uid || key;
    const pod = this.byId.get(id);
    if (pod && pod.key !== key) return undefined;
    this.byId.delete(id);
    return pod;
  }
}
