// Hugging Face model ids as preset names, against the Hub stand-in: a public model is sized from
// its config.json and runs on the size the planner picks for that size; a gated one without a
// token fails with a condition that says what to do, and runs once its Secret holds a token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { huggingFacePreset, inferenceRequirement, parseModelInfo } from "../../presets/index.ts";
import { grantedToken, llama32_1b, qwen3_8b } from "../huggingface-standin/fixtures.ts";
import { startHuggingFaceStandin, type HuggingFaceStandin } from "../huggingface-standin/server.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { deleteWorkspaces } from "./workspaces.ts";

const cluster = useTestCluster();
let hub: HuggingFaceStandin;
let operator: RunningOperator;
beforeAll(async () => {
  hub = await startHuggingFaceStandin();
  operator = await startOperator(cluster.kubeconfigPath, { hfEndpoint: hub.url });
});
afterAll(async () => {
  await operator?.stop();
  await hub?.close();
});

type Ws = Workspace & KubeObject;
const condition = (ws: Ws | undefined, type: string) => ws?.status?.conditions?.find((c) => c.type === type);

function workspace(name: string, namespace: string, model: string, secret?: string): Ws {
  return {
    apiVersion: "kaito.sh/v1beta1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: { labelSelector: { matchLabels: { apps: name } } },
    inference: {
      preset: { name: model, ...(secret ? { presetOptions: { modelAccessSecret: secret } } : {}) },
    },
  };
}

async function waitFor(namespace: string, name: string, done: (ws: Ws) => boolean): Promise<Ws> {
  let last: Ws | undefined;
  return until(
    () =>
      `${name}: ${JSON.stringify(last?.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`,
    async () => {
      last = await operator.client.get<Ws>(resources.workspaces, name, namespace);
      return done(last) ? last : undefined;
    },
  );
}

describe("Hugging Face model ids", () => {
  it("size a public model from its config.json and run it on the planner's choice for that size", async () => {
    const namespace = await cluster.newNamespace("hf");
    await operator.client.create(resources.workspaces, workspace("qwen3", namespace, qwen3_8b.id));
    const ws = await waitFor(namespace, "qwen3", (w) => condition(w, "WorkspaceReady")?.status === "True");

    // The planner, asked directly about the size the model's config.json gives, agrees.
    const preset = huggingFacePreset(
      qwen3_8b.id,
      qwen3_8b.config,
      parseModelInfo({ sha: qwen3_8b.sha, safetensors: { parameters: qwen3_8b.safetensors } }),
    );
    const need = inferenceRequirement(preset);
    const planner = new InProcessPlannerClient();
    const plan = await planner.plan({
      demands: [
        {
          name: "qwen3",
          replicas: 1,
          totalGpuMemoryGiB: need.totalGpuMemoryGiB,
          minGpuMemoryGiB: need.minGpuMemoryGiB,
          labels: { apps: "qwen3" },
          maxNodesPerReplica: 1,
          skus: (await planner.catalog()).filter((s) => !s.retired).map((s) => s.name),
        },
      ],
    });
    expect(ws.status?.instanceType).toBe(plan.newNodes[0]!.sku);
    expect(ws.status?.state).toBe("Ready");
    expect(ws.status?.targetNodeCount).toBe(1);
    // The pod serves that model with vLLM from the base image, pinned to the commit that was sized.
    const deployment = await operator.client.get<
      KubeObject & { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } }
    >(resources.deployments, "qwen3", namespace);
    const container = deployment.spec.template.spec.containers[0]!;
    expect(container.image).toBe("mcr.microsoft.com/aks/kaito/kaito-base:0.4.2");
    expect(container.args.join(" ")).toContain(`--model ${qwen3_8b.id}`);
    expect(container.args.join(" ")).toContain(`--revision ${qwen3_8b.sha}`);
    await deleteWorkspaces(operator.client, namespace);
  });

  it("fail a gated model without a token with a condition that says so, and run it once the Secret holds one", async () => {
    const namespace = await cluster.newNamespace("hf-gated");
    await operator.client.create(resources.workspaces, workspace("llama", namespace, llama32_1b.id));
    const refused = await waitFor(
      namespace,
      "llama",
      (w) => condition(w, "ResourceReady")?.status === "False",
    );
    const c = condition(refused, "ResourceReady")!;
    expect(c.reason).toBe("ModelAccessRequired");
    expect(c.message).toContain(`"${llama32_1b.id}" is gated on Hugging Face`);
    expect(c.message).toContain("presetOptions.modelAccessSecret");
    expect(condition(refused, "WorkspaceReady")?.status).toBe("False");
    expect(refused.status?.state).toBe("NotReady");

    // Naming a Secret that is not there says that instead.
    await operator.client.delete(resources.workspaces, "llama", namespace);
    await until("the refused workspace to be gone", async () =>
      (await operator.client.list<Ws>(resources.workspaces, { namespace })).items.length === 0
        ? true
        : undefined,
    );
    await operator.client.create(
      resources.workspaces,
      workspace("llama", namespace, llama32_1b.id, "hf-token"),
    );
    const missing = await waitFor(
      namespace,
      "llama",
      (w) => condition(w, "ResourceReady")?.reason === "ModelAccessSecretInvalid",
    );
    expect(condition(missing, "ResourceReady")?.message).toContain('Secret "hf-token", which namespace');

    await operator.client.create(resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "hf-token", namespace },
      stringData: { HF_TOKEN: grantedToken },
    } as KubeObject);
    // The controller looks again a minute after a refusal; an edit brings the next look forward.
    await operator.client.patch(
      resources.workspaces,
      "llama",
      namespace,
      { metadata: { annotations: { retry: "1" } } },
      "merge",
    );
    const ready = await waitFor(namespace, "llama", (w) => condition(w, "WorkspaceReady")?.status === "True");
    expect(ready.status?.instanceType).toBeTruthy();
    // The token reached the Hub, never the Workspace's status or events.
    expect(hub.requests.some((r) => r.path.endsWith("/config.json") && r.authenticated)).toBe(true);
    expect(JSON.stringify(ready)).not.toContain(grantedToken);
    await deleteWorkspaces(operator.client, namespace);
  });
});
