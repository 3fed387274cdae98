// The CRDs against the real kube-apiserver: the KAITO doc examples apply unchanged, every invalid
// Workspace of crds/validation-cases.ts is refused with a message that names the field and the
// fix, and `kubectl get` prints the agreed columns. Requests go out raw (not through client-node's
// typed APIs) so the test sees exactly the status code, message and Table that kubectl sees.
import { readdirSync, readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  machineApiVersion,
  machineGroup,
  machineKind,
  machinePlural,
  machineVersion,
  workspaceGroup,
  workspacePlural,
  workspaceVersion,
  type Machine,
} from "../../crds/index.ts";
import { mergePatch, type JsonObject } from "../../crds/merge-patch.ts";
import { invalidWorkspaces, invalidWorkspaceUpdates } from "../../crds/validation-cases.ts";
import { randomSuffix, useTestCluster } from "../harness/index.ts";

const cluster = useTestCluster();
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

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

const workspaces = (ns: string) =>
  `/apis/${workspaceGroup}/${workspaceVersion}/namespaces/${ns}/${workspacePlural}`;
const machines = `/apis/${machineGroup}/${machineVersion}/${machinePlural}`;
// As `kubectl apply` does by default (--validate=strict): unknown fields are errors, not pruned.
const strict = "?fieldValidation=Strict";

function createWorkspace(ns: string, workspace: JsonObject): Promise<Response> {
  return request("POST", workspaces(ns) + strict, { body: JSON.stringify(workspace) });
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
    // Sent as the YAML text itself, exactly what `kubectl apply -f` reads.
    const res = await request("POST", workspaces(ns) + strict, {
      body: text,
      contentType: "application/yaml",
    });
    expect(res.status, res.body).toBe(201);
    const { apiVersion, kind, metadata, ...fields } = parse(text) as JsonObject & { metadata: JsonObject };
    const stored = res.json();
    expect(stored).toMatchObject({ apiVersion, kind, metadata: { name: metadata.name }, ...fields });
    expect((stored.resource as { count: number }).count).toBe(1);
  });

  it("lists them as `kubectl get workspace` does: NAME INSTANCE RESOURCEREADY INFERENCEREADY WORKSPACEREADY AGE", async () => {
    const res = await request("GET", workspaces(ns), { accept: tableAccept });
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
    expect(table.rows).toHaveLength(examples.length);
  });

  it("fills the columns from the status the controller writes", async () => {
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
    const res = await request("GET", `${workspaces(ns)}/${name}`, { accept: tableAccept });
    const table = res.json<Table>();
    const cells = table.rows[0]!.cells;
    expect(cells.slice(0, 5)).toEqual([name, "Standard_NC6s_v3", "True", "False", "Unknown"]);
    expect(cells.slice(6)).toEqual(["True", "False"]);
  });
});

describe("invalid Workspaces", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await cluster.newNamespace("crd-invalid");
  });

  it.each(invalidWorkspaces.map((c, i) => ({ ...c, i })))("refuses $name", async (c) => {
    const workspace = mergePatch({ metadata: { name: `invalid-${c.i}` } }, c.workspace) as JsonObject;
    const res = await createWorkspace(ns, workspace);
    expect(res.status, res.body).toBe(c.status);
    const message = res.json<{ message: string }>().message;
    expect(message).toContain(c.field);
    expect(message).toContain(c.hint);
  });

  it.each(invalidWorkspaceUpdates.map((c, i) => ({ ...c, i })))("refuses $name", async (c) => {
    const name = `update-${c.i}`;
    const created = await createWorkspace(ns, mergePatch(c.base, { metadata: { name } }) as JsonObject);
    expect(created.status, created.body).toBe(201);
    const res = await request("PATCH", `${workspaces(ns)}/${name}${strict}`, {
      body: JSON.stringify(c.patch),
      contentType: "application/merge-patch+json",
    });
    expect(res.status, res.body).toBe(422);
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
