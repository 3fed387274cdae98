// The planner's gRPC server with a caller check: a real server and client on 127.0.0.1.
import { credentials, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { generateServingCertificates } from "../../lib/certs.ts";
import { afterEach, describe, expect, it } from "vitest";
import type { CallerCheck } from "./auth.ts";
import { GrpcPlannerClient } from "./grpc-client.ts";
import { InProcessPlannerClient } from "./in-process.ts";
import { startPlannerServer, type PlannerServer } from "./server.ts";

const servers: PlannerServer[] = [];
const clients: GrpcPlannerClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown(100)));
});

async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return status.OK;
  } catch (e) {
    return ((e as Error).cause as ServiceError).code;
  }
}

describe("the planner's gRPC server with a caller check", () => {
  it("refuses calls without a valid token (UNAUTHENTICATED) or the rule (PERMISSION_DENIED), before planning", async () => {
    const asked: [string | undefined, string][] = [];
    let planned = 0;
    const inner = new InProcessPlannerClient();
    const planner = {
      plan: (...a: Parameters<InProcessPlannerClient["plan"]>) => {
        planned++;
        return inner.plan(...a);
      },
      catalog: (...a: Parameters<InProcessPlannerClient["catalog"]>) => inner.catalog(...a),
    };
    const check: CallerCheck = async (authorization, method) => {
      asked.push([authorization, method]);
      if (authorization === "Bearer scheduler") return { allowed: true, user: "kaito-scheduler" };
      if (authorization === "Bearer down")
        return { allowed: false, code: "Unavailable", message: "no API server" };
      if (authorization === "Bearer stranger")
        return { allowed: false, code: "Forbidden", message: "no rule" };
      return { allowed: false, code: "Unauthenticated", message: "a bearer token is required" };
    };
    const server = await startPlannerServer({ planner, host: "127.0.0.1", port: 0, authenticate: check });
    servers.push(server);
    const as = (token?: string) => {
      const c = new GrpcPlannerClient(server.address, { deadlineMs: 5_000, token: () => token });
      clients.push(c);
      return c;
    };
    const problem = { demands: [{ name: "a", replicas: 1, totalGpuMemoryGiB: 10 }] };

    expect(await codeOf(as().plan(problem))).toBe(status.UNAUTHENTICATED);
    expect(await codeOf(as("forged").catalog())).toBe(status.UNAUTHENTICATED);
    expect(await codeOf(as("stranger").plan(problem))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(as("down").plan(problem))).toBe(status.UNAVAILABLE);
    expect(planned).toBe(0);

    const plan = await as("scheduler").plan(problem);
    expect(plan.placements.length).toBeGreaterThan(0);
    expect((await as("scheduler").catalog()).length).toBeGreaterThan(0);
    expect(planned).toBe(1);
    // The check sees the header as sent and the method's path: what the RBAC rule names.
    expect(asked.at(-2)).toEqual(["Bearer scheduler", "/kaito.planner.v1.Planner/Plan"]);
    expect(asked.at(-1)).toEqual(["Bearer scheduler", "/kaito.planner.v1.Planner/Catalog"]);
  });
});

describe("the planner's gRPC server over TLS", () => {
  it("answers TLS clients, whether they verify its certificate or only encrypt, and no plaintext one", async () => {
    const { cert, key, caCert } = generateServingCertificates({
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      now: Date.now(),
      caName: "test planner CA",
    });
    const server = await startPlannerServer({
      planner: new InProcessPlannerClient(),
      host: "127.0.0.1",
      port: 0,
      tls: { cert, key },
      authenticate: async () => ({ allowed: true, user: "u" }),
    });
    servers.push(server);
    const client = (c: ChannelCredentials) => {
      const g = new GrpcPlannerClient(server.address, {
        deadlineMs: 5_000,
        credentials: c,
        token: () => "t",
      });
      clients.push(g);
      return g;
    };
    expect(await codeOf(client(credentials.createSsl(Buffer.from(caCert))).catalog())).toBe(status.OK);
    // What a client in the cluster does with a certificate made at start: encrypt, skip the check.
    const unverified = credentials.createSsl(null, null, null, { rejectUnauthorized: false });
    expect(await codeOf(client(unverified).catalog())).toBe(status.OK);
    expect(await codeOf(client(credentials.createInsecure()).catalog())).toBe(status.UNAVAILABLE);
  });
});
