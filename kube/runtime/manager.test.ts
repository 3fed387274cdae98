import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { unreachableKubeClient } from "../testing.ts";
import { Manager } from "./manager.ts";

const clients: ReturnType<typeof unreachableKubeClient>[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.close()));
const newManager = () => {
  const client = unreachableKubeClient();
  clients.push(client);
  return new Manager({ client, registry: new Registry(), gracefulShutdownMs: 1_000 });
};
const tick = () => new Promise((r) => setTimeout(r, 20));

describe("Manager", () => {
  it("keeps a manager with nothing for the leader running until it is stopped (an extender-only replica)", async () => {
    const manager = newManager();
    let signal: AbortSignal | undefined;
    manager.add({
      name: "extender",
      needsLeaderElection: false,
      start: async (s) => {
        signal = s;
        await new Promise((r) => s.addEventListener("abort", r, { once: true }));
      },
    });
    const stop = new AbortController();
    let stopped = false;
    const running = manager.start(stop.signal).then(() => (stopped = true));
    for (let i = 0; i < 5; i++) await tick();
    expect(signal?.aborted).toBe(false);
    expect(stopped).toBe(false);
    stop.abort();
    await running;
    expect(signal?.aborted).toBe(true);
  });

  it("stops everything and rejects with the error of a runnable on every replica that fails", async () => {
    const manager = newManager();
    let leaderSignal: AbortSignal | undefined;
    manager.add({
      name: "leader-work",
      needsLeaderElection: true,
      start: async (s) => {
        leaderSignal = s;
        await new Promise((r) => s.addEventListener("abort", r, { once: true }));
      },
    });
    manager.add({
      name: "server",
      needsLeaderElection: false,
      start: async () => {
        await tick();
        throw new Error("the address is already in use");
      },
    });
    await expect(manager.start(new AbortController().signal)).rejects.toThrow(/already in use/);
    expect(leaderSignal?.aborted).toBe(true);
  });

  it("stops waiting for a runnable that does not stop within the graceful period", async () => {
    const manager = newManager();
    manager.add({ name: "stuck", needsLeaderElection: true, start: () => new Promise(() => {}) });
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    await tick();
    stop.abort();
    await running;
  });
});
