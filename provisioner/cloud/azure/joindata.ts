import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import { gunzipSync } from "node:zlib";
import type { Machine, Taint } from "../../../crds/index.ts";
import { UserError } from "../../../lib/errors.ts";
import { requiredLabels } from "../../requirements.ts";

// The join data of the raw-VM backend: the cloud-init user data (ARM's osProfile.customData) that
// makes a plain VM's kubelet register with the cluster, typically `kubeadm join` with a bootstrap
// token. The user writes it for their cluster; this module checks it is something cloud-init would
// act on and fits ARM's limit, fills in the per-node placeholders, and keeps it out of every log
// line, event and status: it carries a credential.

/**
 * ARM decodes customData "to a binary array that is saved as a file on the Virtual Machine. The
 * maximum length of the binary array is 65535 bytes" (@azure/arm-compute models, OSProfile); the
 * base64 text may then be at most 87380 characters.
 */
export const maxCustomDataBytes = 65_535;

/** Replaced by the node's labels in kubelet `--node-labels` form: `key=value,key=value`. */
export const nodeLabelsPlaceholder = "{{KAITO_NODE_LABELS}}";
/** Replaced by the node's taints in kubelet `--register-with-taints` form: `key=value:Effect,...`. */
export const nodeTaintsPlaceholder = "{{KAITO_NODE_TAINTS}}";

/** Where the join data comes from. `origin` names it in messages; the data itself never appears. */
export interface JoinDataSource {
  readonly origin: string;
  read(): Promise<Uint8Array>;
}

/**
 * A file, read again for every VM: a Kubernetes Secret mounted as the file is updated in place,
 * so a rotated bootstrap token reaches the next VM without restarting the manager.
 */
export function joinDataFile(path: string): JoinDataSource {
  return {
    origin: `file ${path}`,
    async read() {
      try {
        return await readFile(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
        throw new UserError(
          `cannot read the node join data file ${path} (${code}); point --azure-node-join-data-file at the cloud-init file that joins a VM to the cluster.`,
        );
      }
    },
  };
}

/** Join data given as a value, e.g. an environment variable filled from a Secret. */
export function joinDataValue(value: string, origin: string): JoinDataSource {
  const bytes = Buffer.from(value, "utf8");
  return { origin, read: async () => bytes };
}

/**
 * The first lines cloud-init acts on (its user-data handlers: cloud-config, shell scripts,
 * include files, boothooks, part handlers, jinja templates, MIME multipart). Anything else it
 * ignores, and the VM boots without joining.
 */
const cloudInitStarts = [
  "#cloud-config",
  "#!",
  "#include",
  "#cloud-boothook",
  "#part-handler",
  "## template: jinja",
  "content-type:",
  "mime-version:",
];

const gzipMagic = [0x1f, 0x8b];

/** Validated join data. Its text is private; printing or serialising it shows only the origin. */
export class NodeJoinData {
  readonly origin: string;
  readonly #bytes: Buffer;
  readonly #gzipped: boolean;

  private constructor(origin: string, bytes: Buffer, gzipped: boolean) {
    this.origin = origin;
    this.#bytes = bytes;
    this.#gzipped = gzipped;
  }

  /** Checks what ARM and cloud-init would refuse or ignore; throws a one-sentence UserError. */
  static parse(data: Uint8Array, origin: string): NodeJoinData {
    const bytes = Buffer.from(data);
    const gzipped = bytes[0] === gzipMagic[0] && bytes[1] === gzipMagic[1];
    let text: string;
    try {
      text = (gzipped ? gunzipSync(bytes) : bytes).toString("utf8");
    } catch {
      throw new UserError(`the node join data in ${origin} starts like gzip but does not decompress.`);
    }
    if (text.trim() === "")
      throw new UserError(
        `the node join data in ${origin} is empty; it must be cloud-init that joins the VM to the cluster, e.g. kubeadm join with a bootstrap token.`,
      );
    const head = text.trimStart().slice(0, 40).toLowerCase();
    if (!cloudInitStarts.some((s) => head.startsWith(s)))
      throw new UserError(
        `the node join data in ${origin} is not cloud-init user data (it must start with #cloud-config, a #! script or a MIME multipart header), so cloud-init would ignore it and the VMs would never join.`,
      );
    if (gzipped && (text.includes(nodeLabelsPlaceholder) || text.includes(nodeTaintsPlaceholder)))
      throw new UserError(
        `the node join data in ${origin} is gzipped but uses ${nodeLabelsPlaceholder} or ${nodeTaintsPlaceholder}, which are filled in only in uncompressed join data.`,
      );
    const joinData = new NodeJoinData(origin, bytes, gzipped);
    // The longest the placeholders can make it is checked for each VM; the file itself here.
    joinData.checkSize(bytes.length);
    return joinData;
  }

  /** The base64 customData of a VM whose kubelet registers with `registration`. */
  customDataFor(registration: KubeletRegistration): string {
    if (this.#gzipped) return this.#bytes.toString("base64");
    const text = this.#bytes
      .toString("utf8")
      .replaceAll(nodeLabelsPlaceholder, nodeLabelsFlag(registration.labels))
      .replaceAll(nodeTaintsPlaceholder, registerWithTaintsFlag(registration.taints));
    const bytes = Buffer.from(text, "utf8");
    this.checkSize(bytes.length);
    return bytes.toString("base64");
  }

  private checkSize(size: number): void {
    if (size > maxCustomDataBytes)
      throw new UserError(
        `the node join data in ${this.origin} is ${size} bytes but Azure takes at most ${maxCustomDataBytes} bytes of customData; shorten or gzip it.`,
      );
  }

  toString(): string {
    return `[node join data from ${this.origin}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Reads and validates the join data once. */
export async function loadJoinData(source: JoinDataSource): Promise<NodeJoinData> {
  return NodeJoinData.parse(await source.read(), source.origin);
}

/** What a Machine's kubelet registers its Node with, before the provisioner's own sync. */
export interface KubeletRegistration {
  labels: Record<string, string>;
  taints: Taint[];
}

/**
 * The Machine's labels the kubelet may set on its own Node, and its taints and startup taints, so
 * the node is tainted from the moment it registers: nothing else lands on the GPU VM in the
 * moments before the provisioner syncs the rest (as Karpenter passes them in kubelet flags).
 */
export function kubeletRegistration(machine: Machine): KubeletRegistration {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(requiredLabels(machine)).sort(([a], [b]) => a.localeCompare(b)))
    if (kubeletMaySetLabel(k)) labels[k] = v;
  return {
    labels,
    taints: [...(machine.spec?.taints ?? []), ...(machine.spec?.startupTaints ?? [])],
  };
}

// The labels a kubelet may give its own Node: kubelet refuses to start with any other
// kubernetes.io or k8s.io label in --node-labels, and NodeRestriction would refuse the write
// (kubernetes/kubernetes pkg/kubelet/apis/well_known_labels.go; karpenter-provider-azure
// pkg/providers/labels IsKubeletLabel).
const kubeletLabels = new Set([
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
]);
const kubeletLabelNamespaces = ["kubelet.kubernetes.io", "node.kubernetes.io"];
const restrictedNamespaces = ["kubernetes.io", "k8s.io"];

const inNamespace = (namespace: string, of: string) => namespace === of || namespace.endsWith(`.${of}`);

/** True when a kubelet may set this label on its own Node (outside kubernetes.io and k8s.io, or allowed there). */
export function kubeletMaySetLabel(key: string): boolean {
  const slash = key.indexOf("/");
  const namespace = slash < 0 ? "" : key.slice(0, slash);
  if (!restrictedNamespaces.some((r) => inNamespace(namespace, r))) return true;
  return kubeletLabels.has(key) || kubeletLabelNamespaces.some((n) => inNamespace(namespace, n));
}

/** Labels as kubelet's --node-labels takes them. */
export function nodeLabelsFlag(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Taints as kubelet's --register-with-taints takes them. */
export function registerWithTaintsFlag(taints: readonly Taint[]): string {
  return taints
    .map((t) => `${t.key}${t.value !== undefined && t.value !== "" ? `=${t.value}` : ""}:${t.effect}`)
    .join(",");
}
