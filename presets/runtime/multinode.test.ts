import { describe, expect, it } from "vitest";
import { kvShards, parallelLayout, powersOfTwo } from "../memory/parallel.ts";
import { listPresets, mustGetPreset } from "../index.ts";
import { inferenceRuntime, replicaLayout } from "./inference.ts";
import { runLaunch } from "./fixtures.ts";
import type { ReplicaRole } from "./multinode.ts";
import type { RuntimeSpec } from "./spec.ts";

/** The variables the controller sets on a pod of a multi-node replica, for pod `ordinal` of `role`. */
function podEnv(spec: RuntimeSpec, role: ReplicaRole, ordinal: number): Record<string, string> {
  return {
    ...Object.fromEntries(spec.env.map((e) => [e.name, e.value])),
    KAITO_ROLE: role,
    KAITO_LEADER_STATEFULSET: "chat-leader",
    KAITO_HEADLESS_SERVICE: "chat-headless",
    POD_NAME: `chat-${role}-${ordinal}`,
    POD_NAMESPACE: "team-a",
  };
}

const leaderOf = (replica: number) => `chat-leader-${replica}.chat-headless.team-a.svc`;

/** The value after `name` in an argv. */
const after = (call: readonly string[], name: string) => call[call.indexOf(name) + 1];

describe("the multi-node launch wrapper", () => {
  const transformers = (nodes: number) =>
    inferenceRuntime(mustGetPreset("phi-3-medium-4k-instruct"), { runtime: "transformers", gpus: 1, nodes });

  /** Machine rank and rendezvous host accelerate gets in pod `ordinal` of `role`. */
  function position(nodes: number, role: ReplicaRole, ordinal: number): [number, string] {
    const spec = transformers(nodes);
    const calls = runLaunch(spec.command, spec.args, podEnv(spec, role, ordinal));
    expect(calls).toHaveLength(1);
    const [program, ...argv] = calls[0]!;
    expect([program, argv[0]]).toEqual(["accelerate", "launch"]);
    return [Number(after(argv, "--machine_rank")), after(argv, "--main_process_ip")!];
  }

  it("ranks two-node replicas: the leader's ordinal is its replica, each worker is rank 1 of its own", () => {
    expect(position(2, "leader", 0)).toEqual([0, leaderOf(0)]);
    expect(position(2, "leader", 1)).toEqual([0, leaderOf(1)]);
    expect(position(2, "worker", 0)).toEqual([1, leaderOf(0)]);
    expect(position(2, "worker", 1)).toEqual([1, leaderOf(1)]);
  });

  it("ranks four-node replicas: workers come three to a replica, ranked 1 to 3", () => {
    const workers = [0, 1, 2, 3, 4, 5, 6].map((o) => position(4, "worker", o));
    expect(workers).toEqual([
      [1, leaderOf(0)],
      [2, leaderOf(0)],
      [3, leaderOf(0)],
      [1, leaderOf(1)],
      [2, leaderOf(1)],
      [3, leaderOf(1)],
      [1, leaderOf(2)],
    ]);
    expect(position(4, "leader", 2)).toEqual([0, leaderOf(2)]);
  });

  it("hands accelerate the node-independent flags and the server, with what the controller appends", () => {
    const spec = transformers(4);
    const [call] = runLaunch(spec.command, [...spec.args, "--enable-lora"], podEnv(spec, "worker", 4));
    expect(call!.slice(6)).toEqual([...spec.args, "--enable-lora"]);
    expect(after(call!, "--num_machines")).toBe("4");
    expect(after(call!, "--main_process_port")).toBe("29500");
  });

  it("vLLM: the leader starts the Ray head, waits for every node's GPUs, then runs the server", () => {
    const spec = inferenceRuntime(mustGetPreset("llama-3.3-70b-instruct"), { gpus: 2, nodes: 4 });
    // The head brings its own 2 GPUs; each wait lets one more node's 2 join.
    const calls = runLaunch(spec.command, spec.args, podEnv(spec, "leader", 1), { gpus: 2, gpusPerSleep: 2 });
    expect(calls[0]).toEqual(["ray", "start", "--head", "--port=29500"]);
    expect(calls.filter((c) => c[0] === "sleep")).toHaveLength(3);
    expect(calls.at(-1)).toEqual(spec.args);
    expect(calls.at(-1)!.slice(0, 2)).toEqual(["python3", "/workspace/vllm/inference_api.py"]);
  });

  it("vLLM: a worker waits for its leader's Ray head, joins it in the foreground and never serves", () => {
    const spec = inferenceRuntime(mustGetPreset("llama-3.3-70b-instruct"), { gpus: 1, nodes: 4 });
    const calls = runLaunch(spec.command, spec.args, podEnv(spec, "worker", 5), { gpusPerSleep: 1 });
    const head = `${leaderOf(1)}:29500`;
    expect(calls).toEqual([
      ["ray", "health-check", `--address=${head}`],
      ["sleep", "5"],
      ["ray", "health-check", `--address=${head}`],
      ["ray", "start", `--address=${head}`, "--block"],
    ]);
  });

  it("refuses to start without the variables that place it", () => {
    const spec = transformers(2);
    const { POD_NAME: _, ...env } = podEnv(spec, "worker", 0);
    expect(() => runLaunch(spec.command, spec.args, env)).toThrow(/POD_NAME/);
  });
});

describe("the parallel layout of a multi-node replica", () => {
  it("never divides the KV cache fewer ways than the memory model assumed for the same GPUs", () => {
    let checked = 0;
    for (const preset of listPresets().filter((p) => p.tensorParallel)) {
      for (const gpus of powersOfTwo(8)) {
        for (const nodes of [2, 4, 8]) {
          const layout = replicaLayout(preset.figures, gpus, nodes);
          expect(layout.tensor * layout.pipeline).toBe(gpus * nodes);
          expect(layout.tensor).toBeLessThanOrEqual(gpus);
          expect(kvShards(preset.figures, layout)).toBeGreaterThanOrEqual(
            kvShards(preset.figures, parallelLayout(preset.figures, gpus * nodes)),
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
