// The operator's three servers (controller/operator.ts) refuse a busy address with one sentence.
import net from "node:net";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { listen, metricsHandler } from "../kube/runtime/servers.ts";
import { MemoryClusterView } from "../scheduler/cluster-view.ts";
import { startExtenderServer } from "../scheduler/server.ts";
import { startPlannerServer } from "../planner/grpc/server.ts";
import { InProcessPlannerClient } from "../planner/grpc/index.ts";
import { isUserError, listenError } from "../lib/errors.ts";

/** Holds a loopback port for the duration of `use`. */
async function withBusyPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  try {
    return await use((holder.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}

async function failure(start: () => Promise<unknown>): Promise<Error> {
  try {
    await start();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the server not to start");
}

describe("listenError", () => {
  it("turns a busy address into one sentence naming the server and the address", async () => {
    await withBusyPort(async (port) => {
      const servers: [string, () => Promise<unknown>][] = [
        ["metrics server", () => listen(metricsHandler(new Registry()), port, "127.0.0.1", "metrics server")],
        [
          "scheduler extender",
          () =>
            startExtenderServer({
              view: new MemoryClusterView(),
              host: "127.0.0.1",
              port,
              registry: new Registry(),
            }),
        ],
        [
          "planner gRPC service",
          () => startPlannerServer({ planner: new InProcessPlannerClient(), host: "127.0.0.1", port }),
        ],
      ];
      for (const [name, start] of servers) {
        const e = await failure(start);
        expect(isUserError(e), `${name}: ${e.message}`).toBe(true);
        expect(e.message).toBe(
          `the ${name} cannot listen on 127.0.0.1:${port}: the address is already in use; stop what holds it or give the server another address.`,
        );
      }
    });
  });

  it("passes other failures through untouched", () => {
    const other = new Error("boom");
    expect(listenError(other, "metrics server", "127.0.0.1:1")).toBe(other);
  });
});
