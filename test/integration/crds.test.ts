// The CRDs against the real kube-apiserver: the KAITO doc examples (v1alpha1 and v1beta1) apply
// unchanged, an object written in one served version reads back whole in the other, every invalid
// Workspace and InferenceSet of crds/validation-cases.ts is refused in each version with a message
// that names the field and the fix, and `kubectl get` prints the agreed columns in both versions.
// Requests go out raw (not through client-node's typed APIs) so the test sees exactly the status
// code, message and Table that kubectl sees.
import { readdirSync, readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  inferenceSetGroup,
  inferenceSetPlural,
  machineApiVersion,
  machineGroup,
  machineKind,
  machinePlural,
  machineVersion,
  workspaceGroup,
  workspacePlural,
  workspaceVersions,
  type Machine,
} from "../../crds/index.ts";
import { mergePatch, type JsonObject } from "../../crds/merge-patch.ts";
import { sampleInferenceSet, sampleWorkspace } from "../../crds/samples.ts";
import {
  invalidInferenceSets,
  invalidWorkspaces,
  invalidWorkspaceUpdates,
  withVersion,
} from "../../crds/validation-cases.ts";
import { randomSuffix, useTestCluster } from "../harness/index.ts";

const cluster = useTestCluster();
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
// The seed's v1alpha1 examples and the v1beta1 ones users copy from KAITO today.
const examples = ["", "v1beta1"].flatMap((dir) =>
  readdirSync(path.join(examplesDir, dir))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f)),
);

// What `kubectl get` asks for; kubectl prints the priority-0 columns, upper-cased.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io";

interface Response {
  status: number;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

interface Table {
  columnDefinitions: { name: string; priority: number }[];
  rows: { cells: unknown[]; object: { metadata: { name: string } } }[];
}

async function request(
  method: string,
  urlPath: string,
  options: { body?: string; contentType?: string; accept?: string } = {},
): Promise<Response> {
  const url = new URL(urlPath, cluster.kubeConfig.getCurrentCluster()!.server);
  const opts: https.RequestOptions = {
    method,
    headers: {
      accept: options.accept ?? "application/json",
      ...(options.body !== undefined ? { "content-type": options.contentType ?? "application/json" } : {}),
    },
  };
  await cluster.kubeConfig.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = https.request(url, opts, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const workspaces = (ns: string, version = "v1alpha1") =>
  `/apis/${workspaceGroup}/${version}/namespaces/${ns}/${workspacePlural}`;
const inferenceSets = (ns: string, version = "v1beta1") =>
  `/apis/${inferenceSetGroup}/${version}/namespaces/${ns}/${inferenceSetPlural}`;

/** The collection a manifest belongs to, from its apiVersion and kind, as kubectl finds it. */
function collectionOf(ns: string, manifest: { apiVersion: string; kind: string }): string {
  const version = manifest.apiVersion.split("/")[1]!;
  return manifest.kind === "InferenceSet" ? inferenceSets(ns, version) : workspaces(ns, version);
}
const machines = `/apis/${machineGroup}/${machineVersion}/${machinePlural}`;
// As `kubectl apply` does by default (--validate=strict): unknown fields are errors, not pruned.
const strict = "?fieldValidation=Strict";

function createWorkspace(ns: string, workspace: JsonObject, version = "v1alpha1"): Promise<Response> {
  return request("POST", workspaces(ns, version) + strict, {
    body: JSON.stringify(withVersion(workspace, version)),
  });
}

function columnNames(table: Table, wide = false): string[] {
  return table.columnDefinitions.filter((c) => wide || c.priority === 0).map((c) => c.name.toUpperCase());
}

describe("the KAITO doc examples", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await cluster.newNamespace("crd-examples");
  });

  it.each(examples)("%s is accepted unchanged and stored without losing a field", async (file) => {
    const text = readFileSync(path.join(examplesDir, file), "utf8");
    const manifest = parse(text) as JsonObject & { apiVersion: string; kind: string; metadata: JsonObject };
    // Sent as the YAML text itself, exactly what `kubectl apply -f` reads.
    const res = await request("POST", collectionOf(ns, manifest) + strict, {
      body: text,
      contentType: "application/yaml",
    });
    expect(res.status, res.body).toBe(201);
    const { apiVersion, kind, metadata, ...fields } = manifest;
    const stored = res.json();
    expect(stored).toMatchObject({ apiVersion, kind, metadata: { name: metadata.name }, ...fields });
    if (kind === "Workspace") expect((stored.resource as { count: number }).count).toBe(1);
    else
      expect((stored.spec as { updateStrategy: unknown }).updateStrategy).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 1 },
      });
  });

  it.each(workspaceVersions)(
    "lists them all as `kubectl get workspaces.%s.kaito.sh` does: NAME INSTANCE RESOURCEREADY INFERENCEREADY WORKSPACEREADY AGE",
    async (version) => {
      const res = await request("GET", workspaces(ns, version), { accept: tableAccept });
      expect(res.status, res.body).toBe(200);
      const table = res.json<Table>();
      expect(columnNames(table)).toEqual([
        "NAME",
        "INSTANCE",
        "RESOURCEREADY",
        "INFERENCEREADY",
        "WORKSPACEREADY",
        "AGE",
      ]);
      expect(columnNames(table, true)).toEqual([
        "NAME",
        "INSTANCE",
        "RESOURCEREADY",
        "INFERENCEREADY",
        "WORKSPACEREADY",
        "AGE",
        "JOBSTARTED",
        "WORKSPACESUCCEEDED",
      ]);
      const workspaceExamples = examples.filter((f) => !/inferenceset/i.test(f));
      expect(table.rows).toHaveLength(workspaceExamples.length);
    },
  );

  it.each(["v1alpha1", "v1beta1"])(
    "lists the InferenceSet as `kubectl get inferencesets.%s.kaito.sh`: NAME REPLICAS READYREPLICAS AGE",
    async (version) => {
      const res = await request("GET", inferenceSets(ns, version), { accept: tableAccept });
      expect(res.status, res.body).toBe(200);
      const table = res.json<Table>();
      expect(columnNames(table)).toEqual(["NAME", "REPLICAS", "READYREPLICAS", "AGE"]);
      expect(table.rows.map((r) => r.cells.slice(0, 2))).toEqual([["mistral-7b", 2]]);
    },
  );

  it("fills the columns from the status the controller writes, the same in both versions", async () => {
    const name = (
      parse(readFileSync(path.join(examplesDir, examples[0]!), "utf8")) as { metadata: { name: string } }
    ).metadata.name;
    const condition = (type: string, status: string) => ({
      type,
      status,
      reason: "Test",
      message: "set by the test",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    });
    const status = {
      instanceType: "Standard_NC6s_v3",
      nodeCount: 1,
      workerNodes: ["gpu-node-1"],
      machines: ["ws-abc12"],
      costPerHour: "3.06",
      observedGeneration: 1,
      conditions: [
        condition("ResourceReady", "True"),
        condition("InferenceReady", "False"),
        condition("WorkspaceReady", "Unknown"),
        condition("JobStarted", "True"),
        condition("WorkspaceSucceeded", "False"),
      ],
    };
    const patched = await request("PATCH", `${workspaces(ns)}/${name}/status${strict}`, {
      body: JSON.stringify({ status }),
      contentType: "application/merge-patch+json",
    });
    expect(patched.status, patched.body).toBe(200);
    for (const version of workspaceVersions) {
      const res = await request("GET", `${workspaces(ns, version)}/${name}`, { accept: tableAccept });
      const table = res.json<Table>();
      const cells = table.rows[0]!.cells;
      expect(cells.slice(0, 5), version).toEqual([name, "Standard_NC6s_v3", "True", "False", "Unknown"]);
      expect(cells.slice(6), version).toEqual(["True", "False"]);
    }
  });
});

/** What the server keeps of an object, without what it adds (uid, timestamps, managed fields). */
function content(o: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _v, metadata, ...rest } = o as { apiVersion: string; metadata: JsonObject };
  const { name, labels, annotations } = metadata;
  return JSON.parse(JSON.stringify({ metadata: { name, labels, annotations }, ...rest })) as Record<
    string,
    unknown
  >;
}

describe("an object written in one version reads back whole in the other", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await cluster.newNamespace("crd-roundtrip");
  });

  // Directions: written as v1alpha1 and read as v1beta1, and the other way round.
  const directions = [
    ["v1alpha1", "v1beta1"],
    ["v1beta1", "v1alpha1"],
  ] as const;
  const samples = 10;

  it.each(directions)("Workspaces written as %s read as %s", async (from, to) => {
    for (let i = 0; i < samples; i++) {
      const seed = from === "v1alpha1" ? 1 : 2;
      const { object, status } = sampleWorkspace(seed, i, from);
      const name = (object.metadata as { name: string }).name;
      const created = await request("POST", workspaces(ns, from) + strict, { body: JSON.stringify(object) });
      expect(created.status, created.body).toBe(201);
      const patched = await request("PATCH", `${workspaces(ns, from)}/${name}/status${strict}`, {
        body: JSON.stringify({ status }),
        contentType: "application/merge-patch+json",
      });
      expect(patched.status, patched.body).toBe(200);
      const written = (await request("GET", `${workspaces(ns, from)}/${name}`)).json();
      const read = (await request("GET", `${workspaces(ns, to)}/${name}`)).json();
      expect(read.apiVersion).toBe(`${workspaceGroup}/${to}`);
      expect(content(read), `${name}: ${JSON.stringify(object)}`).toEqual(content(written));
      // Nothing the sample carried is missing (defaults such as count: 1 may be added).
      expect(read, name).toMatchObject({ ...content(object), status });
    }
  });

  it.each(directions)("InferenceSets written as %s read as %s", async (from, to) => {
    for (let i = 0; i < samples; i++) {
      const seed = from === "v1alpha1" ? 3 : 4;
      const { object, status } = sampleInferenceSet(seed, i, from);
      const name = (object.metadata as { name: string }).name;
      const created = await request("POST", inferenceSets(ns, from) + strict, {
        body: JSON.stringify(object),
      });
      expect(created.status, created.body).toBe(201);
      const patched = await request("PATCH", `${inferenceSets(ns, from)}/${name}/status${strict}`, {
        body: JSON.stringify({ status }),
        contentType: "application/merge-patch+json",
      });
      expect(patched.status, patched.body).toBe(200);
      const written = (await request("GET", `${inferenceSets(ns, from)}/${name}`)).json();
      const read = (await request("GET", `${inferenceSets(ns, to)}/${name}`)).json();
      expect(read.apiVersion).toBe(`${inferenceSetGroup}/${to}`);
      expect(content(read), name).toEqual(content(written));
      expect(read, name).toMatchObject({ ...content(object), status });
    }
  });
});

describe("the scale subresource of an InferenceSet", () => {
  it("reads and writes spec.replicas and reports status.selector, as kubectl scale and an HPA use it", async () => {
    const ns = await cluster.newNamespace("crd-scale");
    const { object } = sampleInferenceSet(5, 0, "v1beta1");
    const name = (object.metadata as { name: string }).name;
    const body = mergePatch(object, { spec: { replicas: 2 } });
    expect((await request("POST", inferenceSets(ns), { body: JSON.stringify(body) })).status).toBe(201);
    const selector = `inferenceset.kaito.sh/created-by=${name}`;
    const status = await request("PATCH", `${inferenceSets(ns)}/${name}/status`, {
      body: JSON.stringify({ status: { replicas: 2, selector } }),
      contentType: "application/merge-patch+json",
    });
    expect(status.status, status.body).toBe(200);
    for (const version of ["v1alpha1", "v1beta1"]) {
      const scale = (await request("GET", `${inferenceSets(ns, version)}/${name}/scale`)).json<{
        spec: { replicas: number };
        status: { replicas: number; selector: string };
      }>();
      expect(scale.spec.replicas, version).toBe(2);
      expect(scale.status, version).toEqual({ replicas: 2, selector });
    }
    // What `kubectl scale inferenceset NAME --replicas 3` sends.
    const scaled = await request("PATCH", `${inferenceSets(ns)}/${name}/scale`, {
      body: JSON.stringify({ spec: { replicas: 3 } }),
      contentType: "application/merge-patch+json",
    });
    expect(scaled.status, scaled.body).toBe(200);
    const after = (await request("GET", `${inferenceSets(ns, "v1alpha1")}/${name}`)).json<{
      spec: { replicas: number };
    }>();
    expect(after.spec.replicas).toBe(3);
  });
});

describe("invalid Workspaces", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await cluster.newNamespace("crd-invalid");
  });

  const cases = workspaceVersions.flatMap((version) =>
    invalidWorkspaces.map((c, i) => ({ ...c, i, version })),
  );
  it.each(cases)("refuses $name ($version)", async (c) => {
    const workspace = mergePatch(
      { metadata: { name: `invalid-${c.version}-${c.i}` } },
      c.workspace,
    ) as JsonObject;
    const res = await createWorkspace(ns, workspace, c.version);
    expect(res.status, res.body).toBe(c.status);
    const message = res.json<{ message: string }>().message;
    expect(message).toContain(c.field);
    expect(message).toContain(c.hint);
  });

  const updates = workspaceVersions.flatMap((version) =>
    invalidWorkspaceUpdates.map((c, i) => ({ ...c, i, version })),
  );
  it.each(updates)("refuses $name ($version)", async (c) => {
    const name = `update-${c.version}-${c.i}`;
    const created = await createWorkspace(
      ns,
      mergePatch(c.base, { metadata: { name } }) as JsonObject,
      c.version,
    );
    expect(created.status, created.body).toBe(201);
    const res = await request("PATCH", `${workspaces(ns, c.version)}/${name}${strict}`, {
      body: JSON.stringify(c.patch),
      contentType: "application/merge-patch+json",
    });
    expect(res.status, res.body).toBe(422);
    const message = res.json<{ message: string }>().message;
    expect(message).toContain(c.field);
    expect(message).toContain(c.hint);
  });
});

describe("invalid InferenceSets", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await cluster.newNamespace("crd-invalid-set");
  });

  const cases = ["v1alpha1", "v1beta1"].flatMap((version) =>
    invalidInferenceSets.map((c, i) => ({ ...c, i, version })),
  );
  it.each(cases)("refuses $name ($version)", async (c) => {
    const set = mergePatch(
      { metadata: { name: `invalid-${c.version}-${c.i}` } },
      c.inferenceSet,
    ) as JsonObject;
    const res = await request("POST", inferenceSets(ns, c.version) + strict, {
      body: JSON.stringify(withVersion(set, c.version)),
    });
    expect(res.status, res.body).toBe(c.status);
    const message = res.json<{ message: string }>().message;
    expect(message).toContain(c.field);
    expect(message).toContain(c.hint);
  });
});

describe("Machines", () => {
  const name = `crd-test-${randomSuffix()}`;
  const machine: Machine = {
    apiVersion: machineApiVersion,
    kind: machineKind,
    metadata: {
      name,
      labels: {
        "node.kubernetes.io/instance-type": "Standard_NC6s_v3",
        "topology.kubernetes.io/zone": "eastus-1",
        "kaito.sh/workspace": "ws",
        "kaito.sh/workspacenamespace": "default",
      },
      finalizers: ["karpenter.sh/termination"],
    },
    spec: {
      requirements: [
        { key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_NC6s_v3"] },
      ],
      resources: { requests: { "nvidia.com/gpu": 1 } },
      taints: [{ key: "sku", value: "gpu", effect: "NoSchedule" }],
      startupTaints: [{ key: "node.cloudprovider.kubernetes.io/uninitialized", effect: "NoSchedule" }],
    },
  };

  // Cluster-scoped, so no namespace deletion takes it away: drop the finalizer, then delete.
  afterAll(async () => {
    await request("PATCH", `${machines}/${name}`, {
      body: JSON.stringify({ metadata: { finalizers: null } }),
      contentType: "application/merge-patch+json",
    });
    await request("DELETE", `${machines}/${name}`);
  });

  it("accepts a Machine and reports its status through the status subresource", async () => {
    const created = await request("POST", machines + strict, { body: JSON.stringify(machine) });
    expect(created.status, created.body).toBe(201);
    const status = {
      providerID: "kwok://gpu-node-1",
      nodeName: "gpu-node-1",
      capacity: { "nvidia.com/gpu": "1", memory: "112Gi" },
      allocatable: { "nvidia.com/gpu": "1", memory: "100Gi" },
      conditions: ["MachineLaunched", "MachineRegistered", "MachineInitialized", "Ready"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      })),
    };
    const patched = await request("PATCH", `${machines}/${name}/status${strict}`, {
      body: JSON.stringify({ status }),
      contentType: "application/merge-patch+json",
    });
    expect(patched.status, patched.body).toBe(200);
  });

  it("lists it as `kubectl get machines` does: NAME TYPE ZONE NODE READY AGE", async () => {
    const res = await request("GET", `${machines}/${name}`, { accept: tableAccept });
    expect(res.status, res.body).toBe(200);
    const table = res.json<Table>();
    expect(columnNames(table)).toEqual(["NAME", "TYPE", "ZONE", "NODE", "READY", "AGE"]);
    expect(table.rows[0]!.cells.slice(0, 5)).toEqual([
      name,
      "Standard_NC6s_v3",
      "eastus-1",
      "gpu-node-1",
      "True",
    ]);
  });

  it("refuses a change to its spec", async () => {
    const res = await request("PATCH", `${machines}/${name}${strict}`, {
      body: JSON.stringify({ spec: { resources: { requests: { "nvidia.com/gpu": 2 } } } }),
      contentType: "application/merge-patch+json",
    });
    expect(res.status, res.body).toBe(422);
    expect(res.json<{ message: string }>().message).toContain("spec is immutable");
  });

  it("refuses an unknown field under strict field validation", async () => {
    const res = await request("POST", machines + strict, {
      body: JSON.stringify({ ...machine, metadata: { name: `${name}-x` }, spec: { instanceType: "x" } }),
    });
    expect(res.status, res.body).toBe(400);
    expect(res.json<{ message: string }>().message).toContain('unknown field "spec.instanceType"');
  });
});
