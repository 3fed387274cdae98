import type { RuntimeName } from "../types.ts";

// The ports and the health path are facts of KAITO's images: presets/runtime/contract.ts.
export { HEALTH_PATH, INFERENCE_PORT, SERVICE_PORT } from "./contract.ts";
/** Port the ranks of a multi-node replica rendezvous on: the Ray head, or torch's c10d store. */
export const DISTRIBUTED_PORT = 29500;
/** Name of that port on containers and Services. */
export const DISTRIBUTED_PORT_NAME = "rendezvous";

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
  readonly readinessProbe?: HttpProbe;
  /** HTTP liveness check, after the startup probe has passed; absent for tuning jobs. */
  readonly livenessProbe?: HttpProbe;
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
  /**
   * The config file the server reads: the controller mounts a ConfigMap holding `key` at
   * CONFIG_DIR (inference.config / tuning.config, or the default ConfigMap `defaultConfigMap`,
   * which it creates in the workspace's namespace when absent).
   */
  readonly config?: { readonly key: string; readonly path: string; readonly defaultConfigMap: string };
}

export interface HttpProbe {
  readonly path: string;
  readonly port: number;
  readonly periodSeconds: number;
  readonly initialDelaySeconds?: number;
  readonly failureThreshold?: number;
}

export interface TuningRuntimeSpec extends RuntimeSpec {
  readonly config: NonNullable<RuntimeSpec["config"]>;
  /** Where the trainer writes the adapter and its completion marker (the config's output_dir). */
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
