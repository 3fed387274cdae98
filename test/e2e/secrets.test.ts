// A tuning Workspace pushes its adapter with a registry Secret. The manager only names that
// Secret in the Job (a volume): its value must never reach a log line, an Event, or any object
// the manager writes.
// The Azure backend's credential, the VMs' join data with its bootstrap token, gets the same check
// in test/e2e/azure.test.ts ("the VMs' join data"), where an operator with that backend runs, and
// the Azure crash drill counts manager logs holding the token (test/e2e/crash-azure.ts secrets()).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import type { Machine, Workspace } from "../../crds/index.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { until } from "../harness/until.ts";

const cluster = useTestCluster();
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
type Ws = Workspace & KubeObject;

let operator: RunningOperator;
const logLines: string[] = [];
beforeAll(async () => {
  // debug: the most the manager ever says.
  operator = await startOperator(cluster.kubeconfigPath, { logLevel: "debug", log: (l) => logLines.push(l) });
});
afterAll(async () => {
  await operator?.stop();
});

describe("the tuning example's imagePushSecret", () => {
  it("appears in no log line, Event or object the manager wrote", async () => {
    const client = operator.client;
    const namespace = await cluster.newNamespace("secrets");
    const password = `pw-${randomBytes(24).toString("hex")}`;
    const auth = Buffer.from(`pusher:${password}`).toString("base64");
    const dockerconfigjson = JSON.stringify({
      auths: { "registry.example.com": { username: "pusher", password, auth } },
    });
    // Every form the value could leak in: plain, base64 of the credentials, base64 of the file.
    const needles = [password, auth, Buffer.from(dockerconfigjson).toString("base64")];
    await client.create(resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "registry-push", namespace },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": dockerconfigjson },
    } as KubeObject);

    const manifest = parse(
      readFileSync(path.join(examplesDir, "kaito_workspace_phi_3_tuning.yaml"), "utf8"),
    ) as Ws;
    manifest.metadata = { ...manifest.metadata, namespace };
    manifest.tuning!.output = {
      image: "registry.example.com/phi-3-adapter:0.0.1",
      imagePushSecret: "registry-push",
    };
    const name = manifest.metadata.name!;
    await client.create(resources.workspaces, manifest);

    let seen: Ws | undefined;
    await until(
      () => `${name}'s tuning Job to start (last status: ${JSON.stringify(seen?.status)})`,
      async () => {
        seen = await client.get<Ws>(resources.workspaces, name, namespace);
        return seen.status?.conditions?.some((c) => c.type === "JobStarted" && c.status === "True")
          ? true
          : undefined;
      },
      90_000,
    );

    // The Job refers to the Secret by name, which is the point: the kubelet mounts it.
    const jobs = await client.list<KubeObject>(resources.jobs, { namespace });
    expect(jobs.items).toHaveLength(1);
    expect(JSON.stringify(jobs.items[0])).toContain('"secretName":"registry-push"');

    // Delete, so the teardown's logs and events are checked too.
    await client.delete(resources.workspaces, name, namespace);
    await until(
      () => `${name}'s Machines to be gone`,
      async () => {
        const left = (await client.list<Machine & KubeObject>(resources.machines)).items.filter(
          (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
        );
        return left.length === 0 ? true : undefined;
      },
    );

    const events = [
      ...(await client.list<KubeObject>(resources.events, { namespace })).items,
      // Machine and Node events live in "default".
      ...(await client.list<KubeObject>(resources.events, { namespace: "default" })).items,
    ];
    const written = [
      ...(await client.list<KubeObject>(resources.jobs, { namespace })).items,
      ...(await client.list<KubeObject>(resources.pods, { namespace })).items,
      ...(await client.list<KubeObject>(resources.services, { namespace })).items,
      ...(await client.list<KubeObject>(resources.workspaces, { namespace })).items,
    ];
    // The hook saw the manager talk (it logs little: starts, launches, listeners).
    expect(logLines.length).toBeGreaterThan(0);
    expect(events.filter((e) => JSON.stringify(e).includes(name)).length).toBeGreaterThan(0);
    for (const needle of needles) {
      expect(logLines.filter((l) => l.includes(needle))).toEqual([]);
      expect(events.filter((e) => JSON.stringify(e).includes(needle)).map((e) => e.metadata?.name)).toEqual(
        [],
      );
      expect(written.filter((o) => JSON.stringify(o).includes(needle)).map((o) => o.metadata?.name)).toEqual(
        [],
      );
    }
  });
});
