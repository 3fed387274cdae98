import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComputeManagementClient } from "@azure/arm-compute";
import { staticTokenCredential } from "./client.ts";
import { appServiceMsiApiVersion, armAudience, MANAGED_IDENTITY_TOKEN } from "./managed-identity.ts";
import { standinProcessEnv } from "./process-env.ts";
import { startArmStandin, type ArmStandin } from "./server.ts";

// The stand-in's managed-identity endpoint, called by the real DefaultAzureCredential in a
// separate process: the route a manager process under test takes to authenticate.

const repo = path.resolve(import.meta.dirname, "../..");
let standin: ArmStandin;
let dir: string;

beforeAll(async () => {
  standin = await startArmStandin({ managedIdentity: true, lroPolls: 0 });
  dir = mkdtempSync(path.join(tmpdir(), "kaito-standin-mi-"));
});
afterAll(async () => {
  await standin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca: standin.ca }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the stand-in's managed-identity endpoint", () => {
  it("issues its token only for the ARM audience and the right header secret", async () => {
    const mi = standin.managedIdentity!;
    const url = (resource: string, version = appServiceMsiApiVersion) =>
      `${mi.endpoint}?api-version=${version}&resource=${encodeURIComponent(resource)}`;
    const ok = await get(url(armAudience), { "X-IDENTITY-HEADER": mi.header });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ access_token: mi.token, resource: armAudience, token_type: "Bearer" });
    expect(Number(ok.body.expires_on) * 1000).toBeGreaterThan(Date.now() + 3_600_000);

    expect((await get(url(armAudience), { "X-IDENTITY-HEADER": "guess" })).status).toBe(401);
    expect((await get(url(armAudience))).status).toBe(401);
    expect((await get(url("https://vault.azure.net"), { "X-IDENTITY-HEADER": mi.header })).status).toBe(400);
    expect((await get(url(armAudience, "2017-09-01"), { "X-IDENTITY-HEADER": mi.header })).status).toBe(400);
  });

  it("makes ARM accept the issued token and nothing else", async () => {
    const withToken = (token: string) =>
      new ComputeManagementClient(staticTokenCredential(token), standin.subscriptionId, {
        endpoint: standin.endpoint,
        tlsOptions: { ca: standin.ca },
        retryOptions: { maxRetries: 0 },
      });
    await expect(withToken("standin-token").virtualMachines.list("rg").next()).rejects.toMatchObject({
      statusCode: 401,
    });
    const vms = [];
    for await (const vm of withToken(standin.managedIdentity!.token).virtualMachines.list("rg")) vms.push(vm);
    expect(vms).toEqual([]);
  });

  it("authenticates a separate process through DefaultAzureCredential, without a secret in its output", async () => {
    const before = standin.count(MANAGED_IDENTITY_TOKEN);
    const script = `
      import { DefaultAzureCredential } from "@azure/identity";
      import { ComputeManagementClient } from "@azure/arm-compute";
      const client = new ComputeManagementClient(new DefaultAzureCredential(), process.argv[1], { endpoint: process.argv[2] });
      await client.virtualMachines.beginCreateOrUpdate("rg", "vm-mi", { location: "eastus", hardwareProfile: { vmSize: "Standard_NC6s_v3" } }, { updateIntervalInMs: 10 }).then((p) => p.pollUntilDone());
      let n = 0;
      for await (const _ of client.virtualMachines.list("rg")) n++;
      console.log("vms " + n);
    `;
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", script, standin.subscriptionId, standin.endpoint],
      { cwd: repo, env: standinProcessEnv(standin, dir), timeout: 60_000 },
    );
    expect(stdout.trim()).toBe("vms 1");
    expect(standin.count(MANAGED_IDENTITY_TOKEN) - before).toBe(1);
    const output = stdout + stderr;
    expect(output).not.toContain(standin.managedIdentity!.token);
    expect(output).not.toContain(standin.managedIdentity!.header);
  });
});
