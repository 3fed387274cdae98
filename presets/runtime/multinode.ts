import type { RuntimeName } from "../types.ts";
import { DISTRIBUTED_PORT } from "./spec.ts";

/**
 * A replica spread over N nodes runs as N pods of two StatefulSets: one leader per replica (in
 * the leader StatefulSet, ordinal = replica) and N-1 workers per replica (in the worker
 * StatefulSet, ordinals grouped N-1 at a time). The launch wrapper works out its place from
 * these variables, which the controller sets on every pod; the runtime sets the node count.
 */
export const launchEnv = {
  /** `leader` or `worker`. */
  role: "KAITO_ROLE",
  nodes: "KAITO_NODES_PER_REPLICA",
  /** Name of the leader StatefulSet: leader of replica g is pod `<name>-<g>`. */
  leaders: "KAITO_LEADER_STATEFULSET",
  /** The headless Service that gives every pod a DNS name, ready or not. */
  headlessService: "KAITO_HEADLESS_SERVICE",
  podName: "POD_NAME",
  namespace: "POD_NAMESPACE",
} as const;

export type ReplicaRole = "leader" | "worker";

/**
 * Sets $group (the replica), $rank (0 for the leader, 1..N-1 for its workers) and $leader (the
 * leader's DNS name) from the pod's StatefulSet ordinal, the suffix of its name. Workers of
 * replica g are worker ordinals g*(N-1) .. g*(N-1)+N-2: scaling either StatefulSet down removes
 * the highest ordinals, so whole replicas go together and the survivors keep their ranks.
 */
function positionScript(): string {
  const e = launchEnv;
  return [
    "set -eu",
    `n=$${e.nodes}`,
    `ordinal=\${${e.podName}##*-}`,
    `if [ "$${e.role}" = leader ]; then group=$ordinal; rank=0`,
    "else group=$((ordinal / (n - 1))); rank=$((ordinal % (n - 1) + 1)); fi",
    `leader=$${e.leaders}-$group.$${e.headlessService}.$${e.namespace}.svc`,
    'echo "kaito: replica $group, rank $rank of $n, leader $leader" >&2',
  ].join("\n");
}

/** Asks the local Ray head how many GPUs have joined; 0 while it cannot answer. */
const rayGpus =
  'python3 -c \'import ray; ray.init(address="auto"); print(int(ray.cluster_resources().get("GPU", 0)))\'';

/**
 * vLLM over Ray: the leader starts the Ray head on the rendezvous port, waits until every node's
 * GPUs have joined (vLLM places its pipeline stages once, at start-up), then runs the server
 * ("$@"), which finds the running cluster; a worker waits for the head, then joins it and stays
 * in the foreground, exiting (so the kubelet restarts it) when its Ray node dies.
 */
function rayScript(gpusPerNode: number): string {
  const head = `$leader:${DISTRIBUTED_PORT}`;
  return [
    'if [ "$rank" -eq 0 ]; then',
    `  ray start --head --port=${DISTRIBUTED_PORT}`,
    `  until [ "$(${rayGpus} 2>/dev/null || echo 0)" -ge $((n * ${gpusPerNode})) ]; do sleep 5; done`,
    '  exec "$@"',
    "fi",
    `until ray health-check --address="${head}" >/dev/null 2>&1; do sleep 5; done`,
    `exec ray start --address="${head}" --block`,
  ].join("\n");
}

/**
 * accelerate on every node: the same launcher ("$@" holds the node-independent flags and the
 * server) with this pod's machine rank and the leader as the rendezvous host.
 */
function accelerateScript(): string {
  return 'exec accelerate launch --machine_rank "$rank" --main_process_ip "$leader" "$@"';
}

/**
 * The container command of a multi-node pod: `sh -c` with the wrapper, whose "$@" is the
 * container's args, so anything the controller appends to them (adapters) reaches the server.
 */
export function multiNodeCommand(runtime: RuntimeName, gpusPerNode: number): string[] {
  const body = runtime === "vllm" ? rayScript(gpusPerNode) : accelerateScript();
  return ["/bin/sh", "-c", `${positionScript()}\n${body}`, "kaito-launch"];
}
