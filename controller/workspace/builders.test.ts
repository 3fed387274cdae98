import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { Workspace } from "../../crds/index.ts";
import { findSku } from "../../planner/catalog/index.ts";
import type { V1Container, V1PodTemplateSpec, V1StatefulSet } from "@kubernetes/client-node";
import { contract, inferenceRuntime, mustGetPreset, tuningRuntime } from "../../presets/index.ts";
import { runLaunch } from "../../presets/runtime/fixtures.ts";
import { desiredMachine, nodeLabelsFor } from "./machines.ts";
import { headlessServiceName, leaderStatefulSetName, workerStatefulSetName } from "./naming.ts";
import { nodeObjectName as machineName } from "../nodeprovision/index.ts";
import { PlacementError, placeOnInstanceType, placeWithPlanner, type Placement } from "./placement.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { modelNeed } from "./requirement.ts";
import {
  headlessService,
  inferenceDeployment,
  inferencePodTemplate,
  inferenceService,
  inferenceStatefulSets,
  tuningJob,
} from "./workloads.ts";

const examples = path.resolve(import.meta.dirname, "../../../shared/examples");
function example(file: string): Workspace {
  const ws = parse(readFileSync(path.join(examples, file), "utf8")) as Workspace;
  ws.metadata = { ...ws.metadata, namespace: "default", uid: "0b7c6c1e-1" };
  return ws;
}

describe("placement on a named instance type", () => {
  it("gives phi-3-mini one V100 per replica on Standard_NC6s_v3, as the KAITO example expects", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    const p = placeOnInstanceType(ws, need.requirement, findSku("Standard_NC6s_v3"), "Standard_NC6s_v3");
    expect(p).toMatchObject({
      instanceType: "Standard_NC6s_v3",
      replicas: 1,
      gpusPerPod: 1,
      nodesPerReplica: 1,
      newNodes: 1,
    });
    expect(p.costPerHour).toBeCloseTo(findSku("Standard_NC6s_v3")!.pricePerHour);
  });

  it("spreads a 70B model over several 1-GPU nodes as one multi-node replica", () => {
    const ws = {
      ...example("kaito_workspace_phi_3.yaml"),
      inference: { preset: { name: "llama-3.3-70b-instruct" } },
    };
    ws.resource = { ...ws.resource, instanceType: "Standard_NC24ads_A100_v4", count: 2 };
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    const p = placeOnInstanceType(
      ws,
      need.requirement,
      findSku("Standard_NC24ads_A100_v4"),
      "Standard_NC24ads_A100_v4",
    );
    expect(p.nodesPerReplica).toBe(2);
    expect(p.replicas).toBe(1);
    expect(p.newNodes).toBe(2);
    expect(p.countAdjusted).toBeUndefined();
  });

  it.each([
    [1, 1, 2],
    [3, 1, 2],
    [5, 2, 4],
  ])(
    "rounds count %i to whole multi-node replicas (%i replica(s) on %i nodes) and says so",
    (count, replicas, nodes) => {
      const ws = {
        ...example("kaito_workspace_phi_3.yaml"),
        inference: { preset: { name: "llama-3.3-70b-instruct" } },
      };
      ws.resource = { ...ws.resource, instanceType: "Standard_NC24ads_A100_v4", count };
      const need = modelNeed(ws);
      if (need.kind !== "preset") throw new Error("preset expected");
      const sku = findSku("Standard_NC24ads_A100_v4")!;
      const p = placeOnInstanceType(ws, need.requirement, sku, sku.name);
      expect(p).toMatchObject({ replicas, newNodes: nodes, nodesPerReplica: 2 });
      expect(p.costPerHour).toBeCloseTo(nodes * sku.pricePerHour);
      expect(p.countAdjusted).toBe(
        `resource.count ${count} is not a multiple of the 2 Standard_NC24ads_A100_v4 nodes one replica of this model spans, ` +
          `so ${nodes} node(s) run ${replicas} replica(s); set count to a multiple of 2 to silence this.`,
      );
    },
  );

  it("says what to fix when the named size cannot hold the model", () => {
    const ws = {
      ...example("kaito_workspace_phi_3.yaml"),
      inference: { preset: { name: "llama-3.3-70b-instruct" } },
    };
    ws.resource = { ...ws.resource, instanceType: "Standard_NC4as_T4_v3" };
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    const attempt = () =>
      placeOnInstanceType(ws, need.requirement, findSku("Standard_NC4as_T4_v3"), "Standard_NC4as_T4_v3");
    expect(attempt).toThrow(PlacementError);
    expect(attempt).toThrow(
      /resource.instanceType Standard_NC4as_T4_v3 cannot serve this model: .*; choose a larger size or leave instanceType out\./,
    );
    expect(() => placeOnInstanceType(ws, need.requirement, undefined, "Standard_Bogus")).toThrow(
      /not a GPU size the catalogue knows/,
    );
  });
});

describe("Machines", () => {
  it("are named deterministically as an AKS agent pool (ws + 9 hex), per workspace, SKU and index", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    const a = machineName(ws, "Standard_NC6s_v3", 0);
    expect(machineName(ws, "Standard_NC6s_v3", 0)).toBe(a);
    expect(machineName(ws, "Standard_NC6s_v3", 1)).not.toBe(a);
    expect(machineName(ws, "Standard_NC12s_v3", 0)).not.toBe(a);
    const long = { ...ws, metadata: { ...ws.metadata, name: "x".repeat(80) } };
    expect(machineName(long, "Standard_NC6s_v3", 7)).toMatch(/^[a-z][a-z0-9]{0,10}$/);
  });

  it("leave a short workspace's multi-node objects their plain names and fit a 63-character one's", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    expect([headlessServiceName(ws), leaderStatefulSetName(ws), workerStatefulSetName(ws)]).toEqual([
      "workspace-phi-3-mini-headless",
      "workspace-phi-3-mini-leader",
      "workspace-phi-3-mini-worker",
    ]);
    const named = (name: string) => ({ ...ws, metadata: { ...ws.metadata, name } });
    const longest = named(`w${"-x".repeat(31)}`);
    const label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
    expect(headlessServiceName(longest)).toMatch(label);
    expect(headlessServiceName(longest).length).toBeLessThanOrEqual(63);
    for (const sts of [leaderStatefulSetName(longest), workerStatefulSetName(longest)]) {
      expect(sts).toMatch(label);
      // Room for the "-<10 characters>" of the pods' controller-revision-hash label.
      expect(sts.length).toBeLessThanOrEqual(52);
    }
    // Two long names that share their first characters still get different objects.
    const other = named(`w${"-x".repeat(30)}-y`);
    expect(leaderStatefulSetName(other)).not.toBe(leaderStatefulSetName(longest));
  });

  it("carry the selector's labels, the workspace labels, the SKU requirement and the GPU taint", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    const m = desiredMachine(ws, { name: "Standard_NC6s_v3", gpus: 1 }, 0);
    expect(m.metadata?.labels).toMatchObject({
      apps: "phi-3",
      "kaito.sh/workspace": "workspace-phi-3-mini",
      "kaito.sh/workspacenamespace": "default",
    });
    expect(m.spec?.requirements).toContainEqual({
      key: "node.kubernetes.io/instance-type",
      operator: "In",
      values: ["Standard_NC6s_v3"],
    });
    expect(m.spec?.resources?.requests).toEqual({ "nvidia.com/gpu": "1", storage: "1024Gi" });
    expect(m.spec?.taints).toEqual([{ key: "sku", value: "gpu", effect: "NoSchedule" }]);
    expect(
      nodeLabelsFor({
        ...ws,
        resource: {
          ...ws.resource,
          labelSelector: { matchExpressions: [{ key: "pool", operator: "In", values: ["a"] }] },
        },
      }),
    ).toEqual({ pool: "a" });
  });
});

describe("workloads", () => {
  const placement = {
    instanceType: "Standard_NC6s_v3",
    replicas: 1,
    gpusPerPod: 1,
    nodesPerReplica: 1,
    newNodes: 1,
    existingNodes: [],
    costPerHour: 3,
  };

  it("inference pods request the planned GPUs, tolerate the GPU taint and go only to the planned nodes", () => {
    const ws = example("kaito_workspace_phi_3_with_adapters.yaml");
    const preset = mustGetPreset("phi-3-mini-128k-instruct");
    const template = inferencePodTemplate(
      ws,
      placement,
      inferenceRuntime(preset, {
        gpus: 1,
        runtime: "transformers",
        adapters: [{ name: "phi-3-adapter", strength: "0.5" }],
      }),
      ["node-b", "node-a"],
      3.8,
    );
    const d = inferenceDeployment(ws, 1, template);
    const pod = d.spec!.template.spec!;
    expect(pod.containers[0]!.resources?.limits).toEqual({ "nvidia.com/gpu": "1" });
    expect(pod.tolerations).toContainEqual({
      key: "sku",
      value: "gpu",
      effect: "NoSchedule",
      operator: "Equal",
    });
    const nodeTerms =
      pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    // One term per planned node (a field selector takes one value), each with the labels.
    expect(nodeTerms.map((t) => t.matchFields)).toEqual([
      [{ key: "metadata.name", operator: "In", values: ["node-a"] }],
      [{ key: "metadata.name", operator: "In", values: ["node-b"] }],
    ]);
    const terms = nodeTerms[1]!.matchExpressions!;
    expect(terms).toContainEqual({ key: "apps", operator: "In", values: ["phi-3-adapter"] });
    expect(d.spec!.template.metadata!.annotations).toMatchObject({
      "kaito.sh/planned-nodes": "node-a,node-b",
    });
    // The adapter is unpacked by a puller (its image never runs) into the shared adapters volume;
    // the transformers server reads its strength from the variable named after it.
    expect(pod.initContainers?.map((c) => c.image)).toEqual([contract.PULLER_IMAGE]);
    expect(pod.initContainers?.[0]?.command?.slice(-3)).toEqual([
      "ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1",
      "/mnt/adapter/phi-3-adapter",
      contract.PULL_AUTH_DIR,
    ]);
    expect(pod.containers[0]!.env).toContainEqual({ name: "phi-3-adapter", value: "0.5" });
    expect(d.metadata!.ownerReferences?.[0]).toMatchObject({
      kind: "Workspace",
      name: "workspace-phi-3-mini-adapter",
      controller: true,
    });
  });

  it("the tuning Job mounts the push secret as a file and never puts it in env or args", () => {
    const ws = example("kaito_workspace_phi_3_tuning.yaml");
    const job = tuningJob(ws, tuningRuntime(mustGetPreset("phi-3-mini-4k-instruct"), "qlora", { gpus: 1 }), [
      "n",
    ]);
    const pod = job.spec!.template.spec!;
    expect(pod.volumes).toContainEqual(
      expect.objectContaining({
        name: "push-secret",
        secret: expect.objectContaining({ secretName: "ACR_REGISTRY_SECRET_HERE" }),
      }),
    );
    const all = [...(pod.initContainers ?? []), ...pod.containers];
    const text = JSON.stringify(all.map((c) => [c.env, c.args, c.command]));
    expect(text).not.toContain("ACR_REGISTRY_SECRET_HERE");
    expect(pod.initContainers?.[0]?.command?.at(-1)).toContain("dolly-15k-oai-style");
    // The trainer runs to completion first; the pusher then sees its outcome.
    expect(pod.initContainers?.map((c) => c.name)).toEqual(["data-downloader", "tuner"]);
    expect(pod.containers.map((c) => c.name)).toEqual(["pusher"]);
  });

  it("hands a gated model's token to the runtime only by reference to its Secret", () => {
    const hfToken = {
      name: "HF_TOKEN",
      valueFrom: { secretKeyRef: { name: "hf-token", key: "HF_TOKEN" } },
    };
    const ws = example("kaito_workspace_phi_3.yaml");
    ws.inference = {
      preset: { name: "llama-3.3-70b-instruct", presetOptions: { modelAccessSecret: "hf-token" } },
    };
    const runtime = inferenceRuntime(mustGetPreset("llama-3.3-70b-instruct"), { gpus: 2 });
    expect(runtime.needsModelAccessToken).toBe(true);
    const env = inferencePodTemplate(ws, { ...placement, gpusPerPod: 2 }, runtime, ["n"], 40).spec!
      .containers[0]!.env;
    expect(env).toContainEqual(hfToken);

    const tuning = example("kaito_workspace_phi_3_tuning.yaml");
    tuning.tuning!.preset!.presetOptions = { modelAccessSecret: "hf-token" };
    const job = tuningJob(
      tuning,
      tuningRuntime(mustGetPreset("phi-3-mini-4k-instruct"), "qlora", { gpus: 1 }),
      ["n"],
    );
    const tuner = job.spec!.template.spec!.initContainers!.find((c) => c.name === "tuner")!;
    expect(tuner.env).toContainEqual(hfToken);

    // Without the option there is no token variable at all.
    const plain = example("kaito_workspace_phi_3.yaml");
    const plainEnv = inferencePodTemplate(
      plain,
      placement,
      inferenceRuntime(mustGetPreset("phi-3-mini-4k-instruct"), { gpus: 1 }),
      ["n"],
      4,
    ).spec!.containers[0]!.env;
    expect(plainEnv?.some((e) => e.name === "HF_TOKEN")).toBe(false);
  });
});

describe("placement by the planner", () => {
  it("keeps each replica on one node when some size holds it, however cheap a split would be", async () => {
    const ws = {
      ...example("kaito_workspace_phi_3.yaml"),
      inference: { preset: { name: "llama-3.1-8b-instruct" } },
    };
    ws.resource = { labelSelector: { matchLabels: { apps: "llama" } }, count: 2 };
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    const p = await placeWithPlanner(ws, need.requirement, new InProcessPlannerClient(), [], []);
    expect(p.nodesPerReplica).toBe(1);
    expect(p.replicas).toBe(2);
    expect(findSku(p.instanceType)!.gpuMemoryGiB * p.gpusPerPod).toBeGreaterThanOrEqual(
      need.requirement.totalGpuMemoryGiB,
    );
  });

  it("spans nodes only when no size holds a replica on one node", async () => {
    const ws = {
      ...example("kaito_workspace_phi_3.yaml"),
      inference: { preset: { name: "llama-3.3-70b-instruct" } },
    };
    ws.resource = { labelSelector: { matchLabels: { apps: "llama" } }, count: 1 };
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    const p = await placeWithPlanner(ws, need.requirement, new InProcessPlannerClient(), [], []);
    // 157 GiB fits one 8-GPU or 2-GPU node: still a single node.
    expect(p.nodesPerReplica).toBe(1);
    // With every size that could hold it on one node excluded, the planner may split it.
    const multiGpu = (await new InProcessPlannerClient().catalog())
      .filter((s) => s.gpus * s.gpuMemoryGiB >= need.requirement.totalGpuMemoryGiB)
      .map((s) => s.name);
    const split = await placeWithPlanner(ws, need.requirement, new InProcessPlannerClient(), [], multiGpu);
    expect(split.nodesPerReplica).toBeGreaterThan(1);
  });
});

describe("multi-node workloads", () => {
  function llama70b(count: number): Workspace {
    const ws = {
      ...example("kaito_workspace_phi_3.yaml"),
      inference: { preset: { name: "llama-3.3-70b-instruct" } },
    };
    ws.metadata = { ...ws.metadata, name: "chat" };
    ws.resource = { ...ws.resource, instanceType: "Standard_NC24ads_A100_v4", count };
    return ws;
  }

  /** The placement the controller makes for `count` A100 nodes: 2 per replica for this model. */
  function placed(ws: Workspace): Placement {
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    return placeOnInstanceType(
      ws,
      need.requirement,
      findSku("Standard_NC24ads_A100_v4"),
      "Standard_NC24ads_A100_v4",
    );
  }

  function statefulSets(ws: Workspace, p: Placement, runtime: "vllm" | "transformers" = "vllm") {
    const spec = inferenceRuntime(mustGetPreset("llama-3.3-70b-instruct"), {
      runtime,
      gpus: p.gpusPerPod,
      nodes: p.nodesPerReplica,
    });
    return inferenceStatefulSets(ws, p, inferencePodTemplate(ws, p, spec, ["node-a", "node-b"], 79));
  }

  const fourNodes: Placement = {
    instanceType: "Standard_NC24ads_A100_v4",
    replicas: 2,
    gpusPerPod: 1,
    nodesPerReplica: 4,
    newNodes: 8,
    existingNodes: [],
    costPerHour: 0,
  };

  const labelsMatch = (selector: Record<string, string>, template: V1PodTemplateSpec) =>
    Object.entries(selector).every(([k, v]) => template.metadata?.labels?.[k] === v);

  it("runs each replica as a leader pod and nodesPerReplica-1 workers, all started at once", () => {
    for (const [ws, p] of [
      [llama70b(2), placed(llama70b(2))],
      [llama70b(2), fourNodes],
    ] as const) {
      const [leaders, workers] = statefulSets(ws, p);
      expect(leaders.metadata?.name).toBe("chat-leader");
      expect(workers.metadata?.name).toBe("chat-worker");
      expect(leaders.spec!.replicas).toBe(p.replicas);
      expect(leaders.spec!.replicas! + workers.spec!.replicas!).toBe(p.replicas * p.nodesPerReplica);
      for (const sts of [leaders, workers]) {
        expect(sts.spec!.serviceName).toBe(headlessServiceName(ws));
        expect(sts.spec!.podManagementPolicy).toBe("Parallel");
        expect(labelsMatch(sts.spec!.selector.matchLabels!, sts.spec!.template)).toBe(true);
        expect(sts.spec!.template.spec!.containers[0]!.resources?.limits).toEqual({ "nvidia.com/gpu": "1" });
      }
      // The two selectors are disjoint: neither StatefulSet can claim the other's pods.
      expect(labelsMatch(leaders.spec!.selector.matchLabels!, workers.spec!.template)).toBe(false);
      expect(labelsMatch(workers.spec!.selector.matchLabels!, leaders.spec!.template)).toBe(false);
    }
    expect(placed(llama70b(2))).toMatchObject({ replicas: 1, nodesPerReplica: 2 });
  });

  it("tells every pod its role, its replica's size, the leaders' StatefulSet and its own name", () => {
    const [leaders, workers] = statefulSets(llama70b(2), fourNodes);
    for (const [sts, role] of [
      [leaders, "leader"],
      [workers, "worker"],
    ] as const) {
      const env = sts.spec!.template.spec!.containers[0]!.env!;
      expect(new Set(env.map((e) => e.name)).size).toBe(env.length);
      expect(env).toEqual(
        expect.arrayContaining([
          { name: "KAITO_ROLE", value: role },
          { name: "KAITO_NODES_PER_REPLICA", value: "4" },
          { name: "KAITO_LEADER_STATEFULSET", value: "chat-leader" },
          { name: "KAITO_HEADLESS_SERVICE", value: "chat-headless" },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        ]),
      );
    }
    const leader = leaders.spec!.template.spec!.containers[0]!;
    expect(leader.ports?.map((p) => p.containerPort)).toEqual([5000, 29500]);
    expect(leader.readinessProbe?.httpGet).toEqual({ path: "/health", port: 5000 });
    // Workers serve nothing: no port for a Service to target and no /health to wait for.
    const worker = workers.spec!.template.spec!.containers[0]!;
    expect(worker.ports).toBeUndefined();
    expect(worker.readinessProbe).toBeUndefined();
    expect(worker.startupProbe).toBeUndefined();
    expect(worker.command).toEqual(leader.command);
  });

  /** Runs every pod's launch wrapper with the env a kubelet would give it: pod name -> [rank, leader]. */
  function launchEveryPod(ws: Workspace, sets: V1StatefulSet[]): Map<string, [number, string]> {
    const out = new Map<string, [number, string]>();
    for (const sts of sets) {
      for (let ordinal = 0; ordinal < sts.spec!.replicas!; ordinal++) {
        const pod = `${sts.metadata!.name}-${ordinal}`;
        const c: V1Container = sts.spec!.template.spec!.containers[0]!;
        const env = Object.fromEntries(
          c.env!.map((e) => {
            const field = e.valueFrom?.fieldRef?.fieldPath;
            const value =
              field === "metadata.name"
                ? pod
                : field === "metadata.namespace"
                  ? ws.metadata!.namespace!
                  : e.value!;
            return [e.name, value];
          }),
        );
        const [call] = runLaunch(c.command!, c.args!, env);
        out.set(pod, [
          Number(call![call!.indexOf("--machine_rank") + 1]),
          call![call!.indexOf("--main_process_ip") + 1]!,
        ]);
      }
    }
    return out;
  }

  it.each([
    [2, 1],
    [2, 3],
    [4, 2],
  ])("ranks %i-node replicas (%i of them) 0..N-1 once each, around a leader pod that exists", (n, r) => {
    const ws = llama70b(n * r);
    const p = { ...fourNodes, replicas: r, nodesPerReplica: n, newNodes: n * r };
    const sets = statefulSets(ws, p, "transformers");
    const pods = launchEveryPod(ws, sets);
    expect(pods.size).toBe(n * r);
    const replicas = new Map<string, number[]>();
    for (const [rank, leader] of pods.values()) replicas.set(leader, [...(replicas.get(leader) ?? []), rank]);
    expect(replicas.size).toBe(r);
    for (const [leader, ranks] of replicas) {
      expect(ranks.sort()).toEqual([...Array(n).keys()]);
      const leaderPod = leader.split(".")[0]!;
      expect(leader).toBe(`${leaderPod}.chat-headless.default.svc`);
      expect(pods.get(leaderPod)?.[0]).toBe(0);
    }
  });

  it("serves port 80 from leaders only and publishes every pod, ready or not, on the headless Service", () => {
    const ws = llama70b(2);
    const [leaders, workers] = statefulSets(ws, fourNodes);
    const svc = inferenceService(ws, true);
    expect(svc.spec!.ports!.map((p) => [p.port, p.targetPort])).toEqual([
      [80, "http"],
      [29500, 29500],
    ]);
    expect(labelsMatch(svc.spec!.selector!, leaders.spec!.template)).toBe(true);
    expect(labelsMatch(svc.spec!.selector!, workers.spec!.template)).toBe(false);

    const headless = headlessService(ws);
    expect(headless.metadata?.name).toBe("chat-headless");
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    expect(headless.spec!.ports!.map((p) => p.port)).toEqual([29500]);
    expect(labelsMatch(headless.spec!.selector!, leaders.spec!.template)).toBe(true);
    expect(labelsMatch(headless.spec!.selector!, workers.spec!.template)).toBe(true);

    const single = inferenceService(ws, false);
    expect(single.spec!.ports!.map((p) => p.port)).toEqual([80]);
    expect(single.spec!.selector).toEqual({ "kaito.sh/workspace": "chat" });
  });
});
