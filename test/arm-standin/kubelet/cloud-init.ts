import { gunzipSync } from "node:zlib";

// What a VM's cloud-init and kubeadm make of the customData ARM hands the VM at its first boot:
// the stand-in's model of a self-managed or Cluster API node image (kubelet, kubeadm and
// containerd installed, cloud-init running the user data). Written from the real tools' behaviour,
// not from the operator's code, so the operator cannot pass by agreeing with itself.

/** The user data cloud-init acts on, or why it does nothing with it. */
export type UserData = { text: string } | { ignored: string };

/** First lines cloud-init has a handler for; it ignores user data that starts otherwise. */
const handled = [
  "#cloud-config",
  "#!",
  "#include",
  "#cloud-boothook",
  "#part-handler",
  "## template: jinja",
  "content-type:",
  "mime-version:",
];

/** Decodes customData (base64, maybe gzipped) as cloud-init reads it. */
export function readUserData(customData: string | undefined): UserData {
  if (!customData) return { ignored: "the VM has no customData, so nothing on it runs kubeadm join" };
  let bytes = Buffer.from(customData, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      return { ignored: "the customData is gzip that does not decompress" };
    }
  }
  const text = bytes.toString("utf8");
  const head = text.trimStart().slice(0, 40).toLowerCase();
  if (!handled.some((h) => head.startsWith(h)))
    return { ignored: "cloud-init has no handler for the customData's format, so it runs nothing" };
  return { text };
}

/** What the join in the user data hands kubeadm and the kubelet. */
export interface KubeadmJoin {
  /** The bootstrap token (`--token`, `--tls-bootstrap-token`, or a JoinConfiguration's token). */
  token?: string;
  /** The kubelet's --node-labels value, when given. */
  nodeLabels?: string;
  /** The kubelet's --register-with-taints value, when given. */
  registerWithTaints?: string;
}

const tokenPatterns = [
  /(?:^|\s)--(?:tls-bootstrap-|discovery-)?token(?:=|\s+)["']?([^\s"']+)/m,
  /(?:^|\s)(?:token|tlsBootstrapToken):\s*["']?([^\s"'#]+)/m,
];
const flagValue = (text: string, flag: string) =>
  new RegExp(`(?:^|[\\s"'])(?:--${flag}=|--${flag}\\s+|${flag}:\\s*)["']?([^\\s"']*)`, "m").exec(text)?.[1];

/** The kubeadm join the user data runs; undefined when it runs none. */
export function kubeadmJoinOf(text: string): KubeadmJoin | undefined {
  if (!/\bkubeadm\s+join\b/.test(text)) return undefined;
  const join: KubeadmJoin = {};
  for (const p of tokenPatterns) {
    const m = p.exec(text);
    if (m) {
      join.token = m[1]!;
      break;
    }
  }
  const labels = flagValue(text, "node-labels");
  if (labels !== undefined) join.nodeLabels = labels;
  const taints = flagValue(text, "register-with-taints");
  if (taints !== undefined) join.registerWithTaints = taints;
  return join;
}

// kubelet refuses to start when --node-labels sets a kubernetes.io or k8s.io label outside the
// few it may set on its own Node (kubernetes/kubernetes pkg/kubelet/apis/well_known_labels.go and
// cmd/kubelet/app/options: "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels").
const ownLabels = new Set([
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
const under = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/** The labels of --node-labels, or why kubelet refuses them. */
export function parseNodeLabels(value: string | undefined): Record<string, string> | { refused: string } {
  const labels: Record<string, string> = {};
  for (const pair of (value ?? "").split(",").filter(Boolean)) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const val = eq < 0 ? "" : pair.slice(eq + 1);
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key))
      return { refused: `kubelet refuses --node-labels: "${key}" is not a label key` };
    if (!/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(val) || val.length > 63)
      return { refused: `kubelet refuses --node-labels: the value of ${key} is not a label value` };
    const ns = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
    const restricted = under(ns, "kubernetes.io") || under(ns, "k8s.io");
    if (
      restricted &&
      !ownLabels.has(key) &&
      !under(ns, "kubelet.kubernetes.io") &&
      !under(ns, "node.kubernetes.io")
    )
      return {
        refused: `kubelet refuses --node-labels: it may not set the kubernetes.io label ${key} itself`,
      };
    labels[key] = val;
  }
  return labels;
}

export interface RegisteredTaint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** The taints of --register-with-taints (`key[=value]:Effect,...`), or why kubelet refuses them. */
export function parseTaints(value: string | undefined): RegisteredTaint[] | { refused: string } {
  const taints: RegisteredTaint[] = [];
  for (const spec of (value ?? "").split(",").filter(Boolean)) {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(spec);
    if (!m) return { refused: `kubelet refuses --register-with-taints: "${spec}" is not key[=value]:Effect` };
    taints.push({ key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3] as RegisteredTaint["effect"] });
  }
  return taints;
}
