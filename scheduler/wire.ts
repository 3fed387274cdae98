// The JSON of k8s.io/kube-scheduler/extender/v1. Its Go structs have no json tags, so the keys on
// the wire are the Go field names (PascalCase); the Pod and Node objects inside carry their usual
// camelCase API fields. We read keys in any case and write PascalCase.
import { ExtenderRequestError } from "./errors.ts";
import { field, isObject } from "./fields.ts";

/** ExtenderArgs: exactly one of `nodes` (full Node objects) and `nodeNames` is normally set. */
export interface ExtenderArgs {
  pod: unknown;
  nodes?: unknown[];
  nodeNames?: string[];
}

export function decodeExtenderArgs(body: unknown): ExtenderArgs {
  if (!isObject(body)) throw invalid("the request body must be a JSON object (ExtenderArgs)");
  const pod = field(body, "Pod");
  if (!isObject(pod)) throw invalid("the request has no Pod object");
  const args: ExtenderArgs = { pod };
  const nodes = field(body, "Nodes");
  if (nodes !== undefined && nodes !== null) {
    const items = field(nodes, "items");
    if (!isObject(nodes) || !(items === undefined || items === null || Array.isArray(items)))
      throw invalid("Nodes must be a NodeList object with an items array");
    args.nodes = Array.isArray(items) ? items : [];
  }
  const names = field(body, "NodeNames");
  if (names !== undefined && names !== null) {
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string"))
      throw invalid("NodeNames must be an array of node names");
    args.nodeNames = names;
  }
  if (!args.nodes && !args.nodeNames) throw invalid("the request has neither Nodes nor NodeNames");
  return args;
}

/** ExtenderBindingArgs. */
export interface BindingArgs {
  podName: string;
  podNamespace: string;
  podUID: string;
  node: string;
}

export function decodeBindingArgs(body: unknown): BindingArgs {
  if (!isObject(body)) throw invalid("the request body must be a JSON object (ExtenderBindingArgs)");
  const get = (key: string, required: boolean) => {
    const v = field(body, key);
    if (typeof v === "string" && v !== "") return v;
    if (!required && (v === undefined || v === null || v === "")) return "";
    throw invalid(`${key} must be a non-empty string`);
  };
  return {
    podName: get("PodName", true),
    podNamespace: get("PodNamespace", true),
    podUID: get("PodUID", false),
    node: get("Node", true),
  };
}

export interface FilterResult {
  Nodes: { items: unknown[] } | null;
  NodeNames: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

export type HostPriorityList = { Host: string; Score: number }[];

export function encodeHostPriorities(
  hosts: readonly { name: string }[],
  scores: readonly number[],
): HostPriorityList {
  const out: HostPriorityList = new Array(hosts.length);
  for (let i = 0; i < hosts.length; i++) out[i] = { Host: hosts[i]!.name, Score: scores[i]! };
  return out;
}

export interface BindingResult {
  Error: string;
}

function invalid(message: string): ExtenderRequestError {
  return new ExtenderRequestError("InvalidRequest", message);
}

// Hand-written encoders for the two hot responses. A 5,000-node answer is a few hundred KiB of
// node names; writing it directly is measurably cheaper than JSON.stringify over the objects,
// and names that need no escaping (all valid node names) skip it.
const plain = /^[A-Za-z0-9._:-]*$/;

function jsonString(s: string): string {
  return plain.test(s) ? `"${s}"` : JSON.stringify(s);
}

function encodeReasons(map: Record<string, string>): string {
  // Many nodes fail for the same reason; escape each distinct one once.
  const escaped = new Map<string, string>();
  let out = "{";
  let first = true;
  for (const node in map) {
    const reason = map[node]!;
    let value = escaped.get(reason);
    if (value === undefined) escaped.set(reason, (value = JSON.stringify(reason)));
    out += (first ? "" : ",") + jsonString(node) + ":" + value;
    first = false;
  }
  return out + "}";
}

/** JSON of an ExtenderFilterResult, byte-for-byte what JSON.stringify would write. */
export function encodeFilterResult(r: FilterResult): string {
  let names = "null";
  if (r.NodeNames) {
    names = "[";
    for (let i = 0; i < r.NodeNames.length; i++) names += (i ? "," : "") + jsonString(r.NodeNames[i]!);
    names += "]";
  }
  return (
    `{"Nodes":${r.Nodes ? JSON.stringify(r.Nodes) : "null"},"NodeNames":${names},` +
    `"FailedNodes":${encodeReasons(r.FailedNodes)},` +
    `"FailedAndUnresolvableNodes":${encodeReasons(r.FailedAndUnresolvableNodes)},` +
    `"Error":${JSON.stringify(r.Error)}}`
  );
}

/** JSON of a HostPriorityList, byte-for-byte what JSON.stringify would write. */
export function encodeHostPriorityList(list: HostPriorityList): string {
  let out = "[";
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    out += (i ? ',{"Host":' : '{"Host":') + jsonString(e.Host) + ',"Score":' + e.Score + "}";
  }
  return out + "]";
}
