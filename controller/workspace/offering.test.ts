import { describe, expect, it } from "vitest";
import type { MachineCondition, Workspace } from "../../crds/index.ts";
import { timestamp } from "../../kube/conditions.ts";
import { mustFindSku } from "../../planner/catalog/index.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { fakeInstanceType } from "../../provisioner/cloud/fake/index.ts";
import type { OfferingSnapshot, OfferingSource } from "../../provisioner/index.ts";
import { launchOfMachine, type NodeLaunch } from "../nodeprovision/index.ts";
import { desiredMachine } from "./machines.ts";
import { launchLimits } from "./offering.ts";
import { isPlacementError, placeWithPlanner } from "./placement.ts";
import { decidePlacement } from "./plan.ts";
import { modelNeed } from "./requirement.ts";

// Plain objects throughout: a reading as the cloud would give it, Machines as the informer holds them.

const readAt = Date.UTC(2026, 0, 1, 12);
const t4 = "Standard_NC4as_T4_v3";
const t4Large = "Standard_NC8as_T4_v3";
const a10 = "Standard_NV36ads_A10_v5";
const a100 = "Standard_NC24ads_A100_v4";
const t4Family = mustFindSku(t4).family;
const a100Family = mustFindSku(a100).family;

function reading(sizes: string[], quota: Record<string, number> = {}): OfferingSnapshot {
  return {
    region: "eastus",
    readAt,
    quota,
    instanceTypes: sizes.map((name) => {
      const sku = mustFindSku(name);
      return fakeInstanceType({ name: sku.name, family: sku.family, vcpus: sku.vcpus, gpus: sku.gpus });
    }),
  };
}

function workspace(name: string, resource: Partial<Workspace["resource"]> = {}): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: "default", uid: `${name}-uid` },
    resource: { count: 1, labelSelector: { matchLabels: { apps: name } }, ...resource },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

/** A Machine of `ws` on `size`; `launched` sets MachineLaunched and its transition time. */
function machine(
  ws: Workspace,
  size: string,
  index: number,
  launched?: { status: MachineCondition["status"]; at: number },
  deleting = false,
): NodeLaunch {
  const m = desiredMachine(ws, { name: size, gpus: 1 }, index);
  if (deleting) m.metadata!.deletionTimestamp = timestamp(readAt);
  if (launched) {
    m.status = {
      conditions: [
        {
          type: "MachineLaunched",
          status: launched.status,
          reason: "Test",
          message: "test",
          lastTransitionTime: timestamp(launched.at),
        },
      ],
    };
  }
  return launchOfMachine(m);
}

const source = (r: OfferingSnapshot | undefined): OfferingSource => ({ current: async () => r });
const signal = new AbortController().signal;
const planner = new InProcessPlannerClient();

describe("launch limits from one reading of the cloud", () => {
  it("takes off the vCPUs of other workspaces' Machines that the reading cannot have counted yet", () => {
    const ws = workspace("mine");
    const other = workspace("other");
    const limits = launchLimits(reading([t4, a100], { [t4Family]: 100, [a100Family]: 96 }), ws, [
      machine(other, t4, 0), // just created, not launched
      machine(other, t4, 1, { status: "Unknown", at: readAt - 60_000 }), // launching
      machine(other, t4, 2, { status: "True", at: readAt + 5_000 }), // launched after the reading
      machine(other, t4, 3, { status: "True", at: readAt - 60_000 }), // in the reading already
      machine(other, t4, 4, { status: "False", at: readAt - 60_000 }), // refused: holds nothing
      machine(other, a100, 0, undefined, true), // being deleted: as the reading has it
    ]);
    expect(limits.quota.get(t4Family.toLowerCase())).toBe(100 - 3 * 4);
    expect(limits.quota.get(a100Family.toLowerCase())).toBe(96);
  });

  it("gives back what this workspace's own counted Machines hold, since a plan covers them", () => {
    const ws = workspace("mine", { count: 3 });
    const limits = launchLimits(reading([t4], { [t4Family]: 0 }), ws, [
      machine(ws, t4, 0, { status: "True", at: readAt - 60_000 }),
      machine(ws, t4, 1, { status: "True", at: readAt - 60_000 }),
      machine(ws, t4, 2), // launching: neither in the reading nor taken off
    ]);
    expect(limits.quota.get(t4Family.toLowerCase())).toBe(8);
  });

  it("matches families however ARM spells them, and never goes below zero", () => {
    const ws = workspace("mine");
    const limits = launchLimits(reading([t4], { "Standard NCASv3_T4 Family": 4 }), ws, [
      machine(workspace("a"), t4, 0),
      machine(workspace("b"), t4, 0),
    ]);
    expect(limits.quota.get(t4Family.toLowerCase())).toBe(0);
    expect(limits.offered.has(t4.toLowerCase())).toBe(true);
  });
});

describe("planning within what the cloud offers", () => {
  const phi3 = workspace("phi3");
  const need = modelNeed(phi3);
  if (need.kind !== "preset") throw new Error("preset expected");
  const place = (r: OfferingSnapshot | undefined, excluded: string[] = []) =>
    placeWithPlanner(phi3, need.requirement, planner, [], excluded, signal, r && launchLimits(r, phi3, []));

  it("picks the cheapest size without a reading, and the cheapest offered one with it", async () => {
    expect((await place(undefined)).instanceType).toBe(t4);
    expect((await place(reading([a10, a100]))).instanceType).toBe(a10);
  });

  it("skips a family without vCPU headroom, and uses it when it has enough", async () => {
    const sizes = [t4, t4Large, a10, a100];
    expect((await place(reading(sizes, { [t4Family]: 0 }))).instanceType).toBe(a10);
    expect((await place(reading(sizes, { [t4Family]: 3 }))).instanceType).toBe(a10);
    expect((await place(reading(sizes, { [t4Family]: 4 }))).instanceType).toBe(t4);
  });

  it("still leaves out sizes that failed to launch", async () => {
    expect((await place(reading([t4, a10]), [t4])).instanceType).toBe(a10);
  });

  it("says which region offers nothing, and why nothing fits when every family is out of quota", async () => {
    await expect(place(reading(["Standard_NC6s_v3"]))).rejects.toMatchObject({
      reason: "NoCapacity",
      message: expect.stringMatching(/none of the catalogue's GPU sizes is offered .* in eastus/),
    });
    await expect(place(reading([t4, a100], { [t4Family]: 0, [a100Family]: 0 }))).rejects.toMatchObject({
      reason: "NoCapacity",
      message: expect.stringMatching(/quota/),
    });
  });

  it("counts another workspace's launching Machine against the quota it will use", async () => {
    const limits = reading([t4, a10], { [t4Family]: 4 });
    const launching = machine(workspace("other"), t4, 0, { status: "Unknown", at: readAt });
    const { placement } = await decidePlacement(phi3, need, {
      planner,
      existing: [],
      launches: [launching],
      offering: source(limits),
      signal,
    });
    expect(placement.instanceType).toBe(a10);
  });
});

describe("a named instance type the cloud does not offer", () => {
  const named = workspace("named", { instanceType: a100 });
  const need = modelNeed(named);

  it("fails before any launch, saying what to change", async () => {
    const failure = await decidePlacement(named, need, {
      planner,
      existing: [],
      launches: [],
      offering: source(reading([t4])),
      signal,
    }).catch((e: unknown) => e);
    expect(isPlacementError(failure) && failure.reason).toBe("InstanceTypeNotOffered");
    expect((failure as Error).message).toBe(
      `resource.instanceType ${a100} is not offered to this subscription in eastus; choose another size or leave instanceType out to let the planner choose.`,
    );
  });

  it("is launched as before when nothing is known of the cloud, or when the size is offered", async () => {
    for (const offering of [undefined, source(undefined), source(reading([a100]))]) {
      const { placement } = await decidePlacement(named, need, {
        planner,
        existing: [],
        launches: [],
        offering,
        signal,
      });
      expect(placement).toMatchObject({ instanceType: a100, newNodes: 1 });
    }
  });

  it("leaves a workspace whose Machines exist alone, so a size withdrawn later stops no running model", async () => {
    const { placement } = await decidePlacement(named, need, {
      planner,
      existing: [],
      launches: [machine(named, a100, 0, { status: "True", at: readAt - 3_600_000 })],
      offering: source(reading([t4])),
      signal,
    });
    expect(placement.instanceType).toBe(a100);
  });
});

describe("a named instance type beyond its family's vCPU quota", () => {
  const a100Vcpus = mustFindSku(a100).vcpus;
  const named = workspace("named-quota", { instanceType: a100, count: 2 });
  const need = modelNeed(named);
  const decide = (quota: Record<string, number>, launches: NodeLaunch[] = []) =>
    decidePlacement(named, need, {
      planner,
      existing: [],
      launches,
      offering: source(reading([a100], quota)),
      signal,
    });

  it("fails before any launch, naming the family, the vCPUs needed and those free", async () => {
    const free = 2 * a100Vcpus - 1;
    const failure = await decide({ [a100Family]: free }).catch((e: unknown) => e);
    expect(isPlacementError(failure) && failure.reason).toBe("QuotaExceeded");
    expect((failure as Error).message).toBe(
      `resource.instanceType ${a100} needs ${2 * a100Vcpus} vCPUs of the ${a100Family} quota for 2 new node(s) but only ${free} are free in eastus; raise that quota or leave instanceType out to let the planner choose.`,
    );
  });

  it("counts another workspace's launching Machine against the quota, and launches when all fit", async () => {
    const other = workspace("other");
    const launching = machine(other, a100, 0);
    expect(await decide({ [a100Family]: 2 * a100Vcpus })).toMatchObject({ placement: { newNodes: 2 } });
    const failure = await decide({ [a100Family]: 2 * a100Vcpus }, [launching]).catch((e: unknown) => e);
    expect(isPlacementError(failure) && failure.reason).toBe("QuotaExceeded");
  });

  it("leaves a workspace whose Machines exist alone, whatever the quota shows", async () => {
    const { placement } = await decide({ [a100Family]: 0 }, [
      machine(named, a100, 0, { status: "True", at: readAt - 3_600_000 }),
    ]);
    expect(placement.instanceType).toBe(a100);
  });
});
