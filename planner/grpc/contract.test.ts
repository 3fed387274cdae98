import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status, type ServiceError } from "@grpc/grpc-js";
import { UserError } from "../../lib/errors.ts";
import { loadCatalog, toCatalogEntries } from "../catalog/catalog.ts";
import type { Plan, Problem } from "../packing/types.ts";
import { GrpcPlannerClient } from "./grpc-client.ts";
import { InProcessPlannerClient, type SolveFn } from "./in-process.ts";
import { isPlannerError, type PlannerErrorCode } from "./errors.ts";
import { MAX_PLAN_TIME_LIMIT_MS } from "./limits.ts";
import { startPlannerServer, type PlannerServer } from "./server.ts";
import type { PlannerClient, ProblemInput } from "./types.ts";

// One contract, two implementations: a caller cannot tell the in-process planner from the
// gRPC one, answers and errors alike. The gRPC side is a real server on 127.0.0.1.

/** A stand-in solver: records what it was given and answers per demand name. */
function scriptedSolve(): { solve: SolveFn; seen: Problem[] } {
  const seen: Problem[] = [];
  const solve: SolveFn = async (problem) => {
    seen.push(problem);
    const first = problem.demands[0];
    if (first?.name === "user-error") throw new UserError("demand user-error cannot fit any SKU.");
    if (first?.name === "crash") throw new Error("solver exploded");
    if (first?.name === "slow") await new Promise((r) => setTimeout(r, 300));
    return planFor(problem);
  };
  return { solve, seen };
}

function planFor(problem: Problem): Plan {
  const sku = problem.catalog[0]!;
  return {
    costPerHour: 2 * sku.pricePerHour,
    newNodes: [{ name: "n-1", sku: sku.name, labels: { ...problem.demands[0]?.labels } }],
    placements: [
      { demand: "a", replica: 0, node: "n-1", gpus: 1 },
      { demand: "a", replica: 0, node: "existing", gpus: 2 },
    ],
    unplaced: [
      {
        demand: "a",
        replica: 1,
        code: "QuotaExhausted",
        reason: "no family quota left for Standard_NC24ads_A100_v4.",
      },
    ],
    lowerBound: 1.5,
    solveMs: 12.5,
    gap: 0.25,
    status: "timeLimit",
  };
}

const problem: ProblemInput = {
  catalog: [
    {
      name: "Standard_NC24ads_A100_v4",
      gpus: 1,
      gpuMemoryGiB: 80,
      vcpus: 24,
      family: "standardNCADSA100v4Family",
      pricePerHour: 3.673,
    },
    {
      name: "Standard_NC4as_T4_v3",
      gpus: 1,
      gpuMemoryGiB: 16,
      vcpus: 4,
      family: "standardNCASv3_T4Family",
      pricePerHour: 0.526,
    },
  ],
  quota: { standardNCADSA100v4Family: 48, standardNCASv3_T4Family: 0 },
  nodes: [{ name: "existing", sku: "standard_nc4as_t4_v3", labels: { pool: "gpu" }, freeGpus: 1 }],
  demands: [
    {
      name: "a",
      replicas: 2,
      totalGpuMemoryGiB: 30,
      minGpuMemoryGiB: 0,
      skus: ["Standard_NC24ads_A100_v4"],
      labels: { app: "phi" },
      maxNodesPerReplica: 2,
    },
    { name: "b", replicas: 0, totalGpuMemoryGiB: 8 },
  ],
};

interface Harness {
  client: PlannerClient;
  seen: Problem[];
  close(): Promise<void>;
}

async function inProcess(): Promise<Harness> {
  const { solve, seen } = scriptedSolve();
  return { client: new InProcessPlannerClient({ solve }), seen, close: async () => {} };
}

async function overGrpc(): Promise<Harness> {
  const { solve, seen } = scriptedSolve();
  const server = await startPlannerServer({
    planner: new InProcessPlannerClient({ solve }),
    host: "127.0.0.1",
    port: 0,
  });
  const client = new GrpcPlannerClient(server.address, { deadlineMs: 5_000 });
  return {
    client,
    seen,
    close: async () => {
      client.close();
      await server.shutdown(100);
    },
  };
}

async function planError(
  run: Promise<unknown>,
): Promise<{ code: PlannerErrorCode; message: string; cause?: unknown }> {
  try {
    await run;
  } catch (e) {
    if (isPlannerError(e)) return e;
    throw e;
  }
  throw new Error("expected a PlannerError");
}

describe.each([
  ["in-process", inProcess],
  ["gRPC", overGrpc],
])("PlannerClient (%s)", (_name, make) => {
  let h: Harness;
  beforeAll(async () => {
    h = await make();
  });
  afterAll(async () => {
    await h.close();
  });

  it("hands the solver the validated problem, defaults filled, and returns its plan unchanged", async () => {
    const plan = await h.client.plan(problem);
    expect(plan).toEqual(planFor(h.seen.at(-1)!));

    const solved = h.seen.at(-1)!;
    expect(solved.catalog).toEqual(problem.catalog);
    expect(solved.quota).toEqual({ standardNCADSA100v4Family: 48, standardNCASv3_T4Family: 0 });
    // Node SKUs are matched case-insensitively and spelt as the catalogue spells them.
    expect(solved.nodes).toEqual([
      { name: "existing", sku: "Standard_NC4as_T4_v3", labels: { pool: "gpu" }, freeGpus: 1 },
    ]);
    expect(solved.demands).toEqual([
      {
        name: "a",
        replicas: 2,
        totalGpuMemoryGiB: 30,
        minGpuMemoryGiB: 0,
        skus: ["Standard_NC24ads_A100_v4"],
        labels: { app: "phi" },
        maxNodesPerReplica: 2,
      },
      { name: "b", replicas: 0, totalGpuMemoryGiB: 8, minGpuMemoryGiB: 0, labels: {}, maxNodesPerReplica: 1 },
    ]);
  });

  it("plans with the planner's own catalogue when the problem brings none", async () => {
    await h.client.plan({ demands: [{ name: "a", replicas: 1, totalGpuMemoryGiB: 10 }] });
    const solved = h.seen.at(-1)!;
    expect(solved.catalog).toEqual(toCatalogEntries());
    expect(solved.quota).toEqual({});
  });

  it("lists the catalogue with every field", async () => {
    expect(await h.client.catalog()).toEqual(loadCatalog().skus);
  });

  it.each([
    [
      { demands: [{ name: "a", replicas: 1.5, totalGpuMemoryGiB: 10 }] },
      'demand "a" needs a whole number of replicas, 0 or more (got 1.5).',
    ],
    [
      { demands: [{ name: "a", replicas: 1, totalGpuMemoryGiB: 10, skus: ["Standard_Nope"] }] },
      'demand "a" lists SKU "Standard_Nope", which is not in the catalog.',
    ],
    [
      { nodes: [{ name: "n", sku: "Standard_NC4as_T4_v3", freeGpus: 3 }], demands: [] },
      'node "n" must have between 0 and 1 free GPUs (got 3).',
    ],
  ])("rejects a bad problem as InvalidArgument with one sentence: %j", async (bad, message) => {
    const e = await planError(h.client.plan(bad as ProblemInput));
    expect(e.code).toBe("InvalidArgument");
    expect(e.message).toBe(message);
  });

  it("passes a solver's UserError on as InvalidArgument", async () => {
    const e = await planError(
      h.client.plan({ demands: [{ name: "user-error", replicas: 1, totalGpuMemoryGiB: 10 }] }),
    );
    expect(e).toMatchObject({ code: "InvalidArgument", message: "demand user-error cannot fit any SKU." });
  });

  it("reports a solver crash as Internal", async () => {
    const e = await planError(
      h.client.plan({ demands: [{ name: "crash", replicas: 1, totalGpuMemoryGiB: 10 }] }),
    );
    expect(e).toMatchObject({ code: "Internal", message: "the planner failed: solver exploded" });
  });

  it("stops waiting when the caller aborts", async () => {
    const aborter = new AbortController();
    const pending = h.client.plan(
      { demands: [{ name: "slow", replicas: 1, totalGpuMemoryGiB: 10 }] },
      { signal: aborter.signal },
    );
    setTimeout(() => aborter.abort(), 20);
    expect((await planError(pending)).code).toBe("Cancelled");
  });
});

describe("gRPC specifics", () => {
  let server: PlannerServer;
  let seen: Problem[];
  beforeAll(async () => {
    const scripted = scriptedSolve();
    seen = scripted.seen;
    server = await startPlannerServer({
      planner: new InProcessPlannerClient({ solve: scripted.solve }),
      host: "127.0.0.1",
      port: 0,
    });
  });
  afterAll(async () => {
    await server.shutdown(100);
  });

  it("binds the requested host on a free port", () => {
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it("answers a bad problem with status INVALID_ARGUMENT", async () => {
    const client = new GrpcPlannerClient(server.address);
    const e = await planError(client.plan({ demands: [{ name: "", replicas: 1, totalGpuMemoryGiB: 1 }] }));
    expect((e.cause as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    expect(e.message).toBe("demand 1 needs a name.");
    client.close();
  });

  it("keeps unset optional fields unset across the wire", async () => {
    const client = new GrpcPlannerClient(server.address);
    await client.plan({
      demands: [
        { name: "zero", replicas: 1, totalGpuMemoryGiB: 4, minGpuMemoryGiB: 0 },
        { name: "unset", replicas: 1, totalGpuMemoryGiB: 4, maxNodesPerReplica: 4 },
      ],
    });
    expect(seen.at(-1)!.demands.map((d) => [d.minGpuMemoryGiB, d.maxNodesPerReplica, d.skus])).toEqual([
      [0, 1, undefined],
      [0, 4, undefined],
    ]);
    client.close();
  });

  it("reports a deadline that passes as DeadlineExceeded", async () => {
    const client = new GrpcPlannerClient(server.address, { deadlineMs: 50 });
    const e = await planError(
      client.plan({ demands: [{ name: "slow", replicas: 1, totalGpuMemoryGiB: 10 }] }),
    );
    expect(e.code).toBe("DeadlineExceeded");
    client.close();
  });

  it("reports a planner that is not there as Unavailable", async () => {
    const gone = await startPlannerServer({
      planner: new InProcessPlannerClient(),
      host: "127.0.0.1",
      port: 0,
    });
    await gone.shutdown();
    const client = new GrpcPlannerClient(gone.address, { deadlineMs: 2_000 });
    expect((await planError(client.catalog())).code).toBe("Unavailable");
    client.close();
  });

  it("lets calls in flight finish on shutdown, then refuses new ones", async () => {
    const { solve } = scriptedSolve();
    const own = await startPlannerServer({
      planner: new InProcessPlannerClient({ solve }),
      host: "127.0.0.1",
      port: 0,
    });
    const client = new GrpcPlannerClient(own.address, { deadlineMs: 2_000 });
    await client.catalog(); // connect first, so the slow call is in flight when shutdown starts
    const inFlight = client.plan({ demands: [{ name: "slow", replicas: 1, totalGpuMemoryGiB: 10 }] });
    await new Promise((r) => setTimeout(r, 50));
    await own.shutdown(2_000);
    await expect(inFlight).resolves.toMatchObject({ status: "timeLimit" });
    expect((await planError(client.catalog())).code).toBe("Unavailable");
    client.close();
  });

  it("cancels the solve of a client that goes away, and derives its time limit from the deadline", async () => {
    const calls: { signal?: AbortSignal; timeLimitMs?: number }[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const own = await startPlannerServer({
      planner: new InProcessPlannerClient({
        solve: (p, options) => {
          calls.push(options);
          if (p.demands[0]!.name !== "hang") return Promise.resolve(planFor(p));
          started();
          return new Promise<Plan>(() => {});
        },
      }),
      host: "127.0.0.1",
      port: 0,
    });
    const client = new GrpcPlannerClient(own.address);
    await client.plan({ demands: [{ name: "a", replicas: 1, totalGpuMemoryGiB: 4 }] });
    await client.plan(
      { demands: [{ name: "a", replicas: 1, totalGpuMemoryGiB: 4 }] },
      { timeLimitMs: 3_000 },
    );
    // No time limit asked: the server's most (the client's default deadline is a minute).
    expect(calls[0]!.timeLimitMs).toBe(MAX_PLAN_TIME_LIMIT_MS);
    // Asked for 3 s: sent as the deadline, less the answer margin on the server (and transit).
    expect(calls[1]!.timeLimitMs).toBeLessThanOrEqual(3_000);
    expect(calls[1]!.timeLimitMs).toBeGreaterThan(2_000);

    const aborter = new AbortController();
    const hung = client.plan(
      { demands: [{ name: "hang", replicas: 1, totalGpuMemoryGiB: 4 }] },
      { signal: aborter.signal },
    );
    await running;
    const solveSignal = calls[2]!.signal!;
    const solveStopped = new Promise<void>((r) =>
      solveSignal.addEventListener("abort", () => r(), { once: true }),
    );
    aborter.abort();
    expect((await planError(hung)).code).toBe("Cancelled");
    await solveStopped;
    expect(solveSignal.aborted).toBe(true);
    client.close();
    await own.shutdown(100);
  });

  it("solves for real with planner/packing's solver", async () => {
    const own = await startPlannerServer({
      planner: new InProcessPlannerClient(),
      host: "127.0.0.1",
      port: 0,
    });
    const client = new GrpcPlannerClient(own.address);
    const plan = await client.plan({
      quota: { standardNCASv3_T4Family: 0 },
      demands: [{ name: "phi", replicas: 2, totalGpuMemoryGiB: 20, labels: { app: "phi" } }],
    });
    expect(plan.unplaced).toEqual([]);
    expect(plan.placements).toHaveLength(2);
    expect(plan.costPerHour).toBeGreaterThan(0);
    expect(plan.newNodes.every((n) => !n.sku.includes("T4"))).toBe(true);
    client.close();
    await own.shutdown();
  });
});
