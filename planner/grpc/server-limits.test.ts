// The planner's gRPC server refuses a request larger than its receive limit before decoding it
// (grpc-js's grpc.max_receive_message_length; 4 MiB by default, the planner's own limit where it
// sets one is below 40 MiB), and keeps serving.
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcPlannerClient } from "./grpc-client.ts";
import { InProcessPlannerClient } from "./in-process.ts";
import { startPlannerServer, type PlannerServer } from "./server.ts";

let server: PlannerServer;
let client: GrpcPlannerClient;
beforeAll(async () => {
  server = await startPlannerServer({ planner: new InProcessPlannerClient(), host: "127.0.0.1", port: 0 });
  client = new GrpcPlannerClient(server.address, { deadlineMs: 20_000 });
});
afterAll(async () => {
  client?.close();
  await server?.shutdown(100);
});

describe("the planner's gRPC server", () => {
  it("refuses a 40 MiB request with RESOURCE_EXHAUSTED and answers the next call", async () => {
    const huge = { demands: [{ name: "x".repeat(40 * 1024 * 1024), replicas: 1, totalGpuMemoryGiB: 10 }] };
    const code = await client.plan(huge).then(
      () => status.OK,
      (e: Error) => (e.cause as ServiceError).code,
    );
    expect(code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await client.catalog()).length).toBeGreaterThan(0);
  });
});
