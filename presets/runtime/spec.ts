import type { RuntimeName } from "../types.ts";

/** Port the inference server listens on inside the pod. */
export const INFERENCE_PORT = 5000;
/** Port of the inference Service; it targets INFERENCE_PORT. */
export const SERVICE_PORT = 80;
/** Port the ranks of a multi-node replica rendezvous on: the Ray head, or torch's c10d store. */
export const DISTRIBUTED_PORT = 29500;
/** Name of that port on containers and Services. */
export const DISTRIBUTED_PORT_NAME = "rendezvous";
/** Answers 200 once the model is loaded; both KAITO inference servers expose it. */
export const HEALTH_PATH = "/health";

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface ContainerPort {
  readonly name: string;
  readonly containerPort: number;
}

/**
 * What the controller puts in the main container of an inference pod or tuning Job. It holds no
 * Kubernetes types: the controller maps it onto a PodSpec (volumes, node affinity, secrets).
 */
export interface RuntimeSpec {
  readonly runtime: RuntimeName;
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly EnvVar[];
  readonly ports: readonly ContainerPort[];
  /** HTTP readiness check; absent for tuning jobs, which serve nothing. */
  readonly readinessProbe?: { readonly path: string; readonly port: number; readonly periodSeconds: number };
  /** How long loading the model may take before the pod counts as failed. */
  readonly startupTimeoutSeconds: number;
  /** nvidia.com/gpu the container requests. */
  readonly gpus: number;
  /** Tensor- and pipeline-parallel workers exchange tensors through /dev/shm: mount a memory emptyDir. */
  readonly sharedMemory: boolean;
  /**
   * The weights come from a gated Hugging Face repository: inject HF_TOKEN from the Workspace's
   * presetOptions.modelAccessSecret.
   */
  readonly needsModelAccessToken: boolean;
}

export interface TuningRuntimeSpec extends RuntimeSpec {
  /** The default training ConfigMap for the method (KAITO's lora-params-template / qlora-params-template). */
  readonly configTemplate: string;
  /** Where the training config is mounted and where results are written. */
  readonly configFile: string;
  readonly outputDir: string;
}

/** Turns a flag map into argv: `--name value`, or a bare `--name` when the value is empty. */
export function flagArgs(flags: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(flags).sort()) {
    out.push(`--${name}`);
    if (flags[name] !== "") out.push(flags[name]!);
  }
  return out;
}
