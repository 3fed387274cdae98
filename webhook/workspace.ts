/**
 * What admission decides for a Workspace, whichever version it came through (v1alpha1 and
 * v1beta1 keep resource, inference and tuning at the top level with the same fields read here).
 *
 * Mutation: a Workspace created through v1alpha1, the seed's API, keeps what the seed promises,
 * POST /chat, which only the transformers server serves; the stored object forgets the version,
 * so the decision is recorded as the kaito.sh/runtime annotation, on CREATE only, and only when
 * the user named no runtime. v1beta1 Workspaces get nothing: vLLM is their default, as in KAITO.
 *
 * Validation: what the API server's schema and CEL rules cannot know, because it lives in the
 * preset catalogue: the preset exists, it can be tuned with the method, it runs on the runtime,
 * vLLM can apply the adapters, and downloaded inputs are named so the tuning script finds them.
 */
import { runtimeAnnotation, workspaceGroup, workspaceKind, type Workspace } from "../crds/index.ts";
import {
  contract,
  getPreset,
  listPresets,
  RUNTIMES,
  runtimeFromAnnotation,
  type Preset,
  type RuntimeName,
} from "../presets/index.ts";
import { isUserError } from "../lib/errors.ts";
import {
  jsonPointerToken,
  type AdmissionDecision,
  type AdmissionRequest,
  type JsonPatchOperation,
} from "./admission.ts";

/** The API version whose Workspaces keep the seed's POST /chat. */
export const chatApiVersion = "v1alpha1";

function isWorkspace(r: AdmissionRequest): boolean {
  return r.kind.group === workspaceGroup && r.kind.kind === workspaceKind;
}

/** The version the user sent: requestKind under matchPolicy Equivalent, else kind. */
export function requestedVersion(r: AdmissionRequest): string {
  return (r.requestKind ?? r.kind).version;
}

/** The runtime a Workspace created through `version` gets when it names none. */
export function defaultRuntimeFor(version: string, preset: Preset | undefined): RuntimeName {
  if (version !== chatApiVersion) return "vllm";
  // A preset the transformers server cannot run keeps vLLM: no runtime would serve /chat.
  return !preset || preset.runtimes.includes("transformers") ? "transformers" : "vllm";
}

/** POST /mutate: records the runtime of a Workspace created through v1alpha1. */
export function mutateWorkspace(r: AdmissionRequest): AdmissionDecision {
  if (!isWorkspace(r) || r.operation !== "CREATE") return { allowed: true };
  const ws = r.object as Workspace | undefined;
  if (!ws?.inference?.preset?.name) return { allowed: true };
  const annotations = ws.metadata?.annotations;
  if (annotations?.[runtimeAnnotation] !== undefined) return { allowed: true };
  const version = requestedVersion(r);
  if (version !== chatApiVersion) return { allowed: true };
  const runtime = defaultRuntimeFor(version, getPreset(ws.inference.preset.name));
  const patch: JsonPatchOperation[] = annotations
    ? [{ op: "add", path: `/metadata/annotations/${jsonPointerToken(runtimeAnnotation)}`, value: runtime }]
    : [{ op: "add", path: "/metadata/annotations", value: { [runtimeAnnotation]: runtime } }];
  return { allowed: true, patch };
}

/**
 * Whether `name` names a preset, and if not, one sentence listing the valid names. The one place
 * that decides what a preset name may be (Hugging Face model ids will be learnt here).
 */
export function presetNameProblem(field: string, name: string): string | undefined {
  if (getPreset(name)) return undefined;
  return `${field} "${name}" is not a known preset; valid names are ${listPresets()
    .map((p) => p.name)
    .join(", ")}.`;
}

/** Every problem the catalogue finds in a Workspace, one sentence each. */
export function workspaceProblems(ws: Workspace): string[] {
  const problems: string[] = [];
  const annotation = ws.metadata?.annotations?.[runtimeAnnotation];
  let runtime: RuntimeName | undefined;
  try {
    runtime = runtimeFromAnnotation(annotation);
  } catch (e) {
    if (!isUserError(e)) throw e;
    problems.push(
      `the annotation ${runtimeAnnotation} must be one of ${RUNTIMES.join(", ")}, not "${annotation}".`,
    );
  }
  const inferencePreset = ws.inference?.preset?.name;
  if (inferencePreset !== undefined) {
    const problem = presetNameProblem("inference.preset.name", inferencePreset);
    if (problem) problems.push(problem);
    const preset = getPreset(inferencePreset);
    if (preset && runtime && !preset.runtimes.includes(runtime)) {
      problems.push(
        `preset "${preset.name}" does not run on ${runtime}; set the annotation ${runtimeAnnotation} to ${preset.runtimes.join(" or ")}.`,
      );
    }
    const adapters = ws.inference?.adapters ?? [];
    if (preset && runtime === "vllm" && adapters.length > 0) {
      if (!preset.adapters) {
        problems.push(
          `vLLM cannot serve LoRA adapters on "${preset.name}"; remove inference.adapters or set the annotation ${runtimeAnnotation}: transformers.`,
        );
      }
      const partial = adapters.find((a) => a.strength !== undefined && Number(a.strength) !== 1);
      if (partial) {
        problems.push(
          `vLLM applies adapters at full strength only, and adapter "${partial.source?.name}" asks for ${partial.strength}; remove its strength or set the annotation ${runtimeAnnotation}: transformers.`,
        );
      }
    }
  }
  const tuning = ws.tuning;
  if (tuning?.preset?.name !== undefined) {
    const problem = presetNameProblem("tuning.preset.name", tuning.preset.name);
    if (problem) problems.push(problem);
    const preset = getPreset(tuning.preset.name);
    const method = tuning.method;
    if (preset && method && !preset.tuning.includes(method)) {
      const tunable = listPresets().filter((p) => p.tuning.includes(method));
      problems.push(
        preset.tuning.length === 0
          ? `preset "${preset.name}" cannot be tuned; presets that support ${method} are ${tunable.map((p) => p.name).join(", ")}.`
          : `preset "${preset.name}" supports ${preset.tuning.join(" and ")} tuning, not ${method}; set tuning.method accordingly.`,
      );
    }
  }
  for (const url of tuning?.input?.urls ?? []) {
    const name = contract.datasetFileName(url);
    if (!contract.isDatasetFileName(name)) {
      problems.push(
        `tuning.input.urls entry "${url}" downloads a file named "${name}", which the tuning script cannot read: the file name must contain ${contract.DATASET_NAME_MARKERS.join(", ")}.`,
      );
    }
  }
  return problems;
}

/**
 * POST /validate. On UPDATE only new problems count, so a Workspace admitted before a check
 * existed (or created while no webhook ran) can still get its finalizer removed and be edited;
 * a Workspace being deleted is never blocked.
 */
export function validateWorkspace(r: AdmissionRequest): AdmissionDecision {
  if (!isWorkspace(r) || (r.operation !== "CREATE" && r.operation !== "UPDATE")) return { allowed: true };
  const ws = r.object as Workspace | undefined;
  if (!ws || ws.metadata?.deletionTimestamp) return { allowed: true };
  let problems = workspaceProblems(ws);
  if (r.operation === "UPDATE" && r.oldObject) {
    const before = new Set(workspaceProblems(r.oldObject as Workspace));
    problems = problems.filter((p) => !before.has(p));
  }
  if (problems.length === 0) return { allowed: true };
  return { allowed: false, message: problems.join(" ") };
}
