import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { Workspace } from "../crds/index.ts";
import { listPresets } from "../presets/index.ts";
import type { AdmissionDecision, AdmissionRequest, JsonPatchOperation } from "./admission.ts";
import { mutateWorkspace, validateWorkspace } from "./workspace.ts";

const examples = path.resolve(import.meta.dirname, "../../shared/examples");
function example(file: string): Workspace {
  return parse(readFileSync(path.join(examples, file), "utf8")) as Workspace;
}

/** An AdmissionReview request for `ws` as the API server sends it under matchPolicy Equivalent. */
function request(
  ws: Workspace,
  o: { operation?: "CREATE" | "UPDATE"; version?: string; sentAs?: string; old?: Workspace } = {},
): AdmissionRequest {
  const sentAs = o.sentAs ?? o.version ?? "v1alpha1";
  return {
    uid: "7f0c",
    kind: { group: "kaito.sh", version: sentAs, kind: "Workspace" },
    requestKind: { group: "kaito.sh", version: o.version ?? "v1alpha1", kind: "Workspace" },
    operation: o.operation ?? "CREATE",
    namespace: "default",
    name: ws.metadata?.name,
    object: ws,
    ...(o.old ? { oldObject: o.old } : {}),
  };
}

function patchOf(d: AdmissionDecision): JsonPatchOperation[] | undefined {
  if (!d.allowed) throw new Error(`denied: ${d.message}`);
  return d.patch;
}

function denial(d: AdmissionDecision): string {
  if (d.allowed) throw new Error("expected a denial");
  return d.message;
}

describe("the runtime decision at admission", () => {
  it("gives a Workspace created through v1alpha1 the transformers server, which serves POST /chat", () => {
    expect(patchOf(mutateWorkspace(request(example("kaito_workspace_phi_3.yaml"))))).toEqual([
      { op: "add", path: "/metadata/annotations", value: { "kaito.sh/runtime": "transformers" } },
    ]);
  });

  it("adds to existing annotations, escaping the key as a JSON pointer", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    ws.metadata!.annotations = { team: "a" };
    expect(patchOf(mutateWorkspace(request(ws)))).toEqual([
      { op: "add", path: "/metadata/annotations/kaito.sh~1runtime", value: "transformers" },
    ]);
  });

  it("decides by the version the user sent, even when the webhook receives another", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    // Sent through v1beta1, converted to v1alpha1 for us: v1beta1's default, vLLM, stands.
    expect(patchOf(mutateWorkspace(request(ws, { version: "v1beta1", sentAs: "v1alpha1" })))).toBeUndefined();
    // Sent through v1alpha1, converted to v1beta1 for us: the seed's /chat.
    expect(patchOf(mutateWorkspace(request(ws, { version: "v1alpha1", sentAs: "v1beta1" })))).toHaveLength(1);
  });

  it("leaves v1beta1 Workspaces to vLLM, as KAITO does, and keeps a runtime the user named", () => {
    const beta = example("v1beta1/workspace-phi-4-mini.yaml");
    expect(patchOf(mutateWorkspace(request(beta, { version: "v1beta1" })))).toBeUndefined();
    const chosen = example("v1beta1/workspace-phi-3-transformers.yaml");
    expect(patchOf(mutateWorkspace(request(chosen, { version: "v1beta1" })))).toBeUndefined();
    const alpha = example("kaito_workspace_phi_3.yaml");
    alpha.metadata!.annotations = { "kaito.sh/runtime": "vllm" };
    expect(patchOf(mutateWorkspace(request(alpha)))).toBeUndefined();
  });

  it("only on CREATE, and only for inference with a preset", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    expect(patchOf(mutateWorkspace(request(ws, { operation: "UPDATE", old: ws })))).toBeUndefined();
    expect(patchOf(mutateWorkspace(request(example("kaito_workspace_phi_3_tuning.yaml"))))).toBeUndefined();
  });
});

describe("validation at admission", () => {
  it("admits the seed examples and their v1beta1 twins", () => {
    for (const file of [
      "kaito_workspace_phi_3.yaml",
      "kaito_workspace_phi_3_tuning.yaml",
      "kaito_workspace_phi_3_128k_tuning.yaml",
      "kaito_workspace_phi_3_with_adapters.yaml",
    ])
      expect(validateWorkspace(request(example(file))).allowed, file).toBe(true);
    for (const file of [
      "workspace-phi-3-transformers.yaml",
      "workspace-phi-4-mini.yaml",
      "workspace-qwen-coder-auto-sku.yaml",
      "workspace-tuning-phi-3.yaml",
    ])
      expect(
        validateWorkspace(request(example(`v1beta1/${file}`), { version: "v1beta1" })).allowed,
        file,
      ).toBe(true);
  });

  it("refuses an unknown preset in one sentence that lists every valid name", () => {
    const ws = example("kaito_workspace_phi_3.yaml");
    ws.inference!.preset!.name = "phi-9";
    const message = denial(validateWorkspace(request(ws)));
    expect(message).toMatch(/^inference\.preset\.name "phi-9" is not a known preset; valid names are /);
    for (const p of listPresets()) expect(message).toContain(p.name);
    expect(message.trim().endsWith(".")).toBe(true);
  });

  it("refuses a tuning method or preset that cannot be tuned, saying which can", () => {
    const ws = example("kaito_workspace_phi_3_tuning.yaml");
    ws.tuning!.preset!.name = "mistral-7b-instruct";
    expect(denial(validateWorkspace(request(ws)))).toMatch(
      /^preset "mistral-7b-instruct" cannot be tuned; presets that support qlora are .*phi-3-mini-4k-instruct/,
    );
    const unknown = example("kaito_workspace_phi_3_tuning.yaml");
    unknown.tuning!.preset!.name = "nope";
    expect(denial(validateWorkspace(request(unknown)))).toMatch(
      /^tuning\.preset\.name "nope" is not a known preset/,
    );
  });

  it("refuses a runtime that does not exist, and partial adapter strengths on vLLM", () => {
    const ws = example("v1beta1/workspace-phi-4-mini.yaml");
    ws.metadata!.annotations = { "kaito.sh/runtime": "tgi" };
    expect(denial(validateWorkspace(request(ws, { version: "v1beta1" })))).toBe(
      'the annotation kaito.sh/runtime must be one of vllm, transformers, not "tgi".',
    );
    const adapters = example("kaito_workspace_phi_3_with_adapters.yaml");
    adapters.inference!.adapters![0]!.strength = "0.4";
    adapters.metadata!.annotations = { "kaito.sh/runtime": "vllm" };
    expect(denial(validateWorkspace(request(adapters)))).toMatch(
      /^vLLM applies adapters at full strength only, and adapter "phi-3-adapter" asks for 0\.4/,
    );
    adapters.metadata!.annotations = { "kaito.sh/runtime": "transformers" };
    expect(validateWorkspace(request(adapters)).allowed).toBe(true);
  });

  it("refuses input URLs whose file name the tuning script's loader would not find", () => {
    const ws = example("kaito_workspace_phi_3_tuning.yaml");
    ws.tuning!.input!.urls = ["https://example.com/download?id=42"];
    expect(denial(validateWorkspace(request(ws)))).toMatch(
      /downloads a file named "download", which the tuning script cannot read: the file name must contain csv, json, parquet, arrow, webdataset/,
    );
  });

  it("on UPDATE counts only new problems, and never blocks a Workspace being deleted", () => {
    const bad = example("kaito_workspace_phi_3.yaml");
    bad.inference!.preset!.name = "phi-9";
    // Created while no webhook ran: removing its finalizer must still pass.
    const finalizerRemoved = structuredClone(bad);
    finalizerRemoved.metadata!.finalizers = [];
    expect(validateWorkspace(request(finalizerRemoved, { operation: "UPDATE", old: bad })).allowed).toBe(
      true,
    );
    const good = example("kaito_workspace_phi_3.yaml");
    expect(validateWorkspace(request(bad, { operation: "UPDATE", old: good })).allowed).toBe(false);
    bad.metadata!.deletionTimestamp = "2026-12-06T00:00:00Z";
    expect(validateWorkspace(request(bad)).allowed).toBe(true);
  });
});
