// The real Karpenter (its kwok provider, sigs.k8s.io/karpenter/kwok) as a component of the local
// cluster: built and cached by scripts/control-plane-binaries.sh, run in its own process group under
// the same guard as the other components, against the local API server.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { systemClock, type Clock } from "../lib/clock.ts";
import { UserError } from "../lib/errors.ts";
import { installCrds, readCrds } from "./crds.ts";
import { apiRequest, type ApiTarget } from "./http.ts";
import { freePort } from "./ports.ts";
import { ManagedProcess } from "./processes.ts";

const buildScript = path.resolve(import.meta.dirname, "../scripts/control-plane-binaries.sh");

/** The Karpenter binary and the CRDs of the same module version. */
export interface KarpenterInstall {
  binary: string;
  /** NodePool, NodeClaim, NodeOverlay and KWOKNodeClass, copied from the module. */
  crdDir: string;
}

function script(args: string[], log: (l: string) => void, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [buildScript, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let tail = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      tail = (tail + d.toString()).slice(-2000);
      for (const line of d.toString().split("\n")) if (line.startsWith("control-plane:")) log(line);
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out.trim().split("\n").pop() ?? "")
        : reject(
            new UserError(
              `building Karpenter failed (exit ${code}): ${tail.trim().split("\n").pop() ?? ""}; run scripts/control-plane-binaries.sh --karpenter to see why.`,
            ),
          ),
    );
  });
}

const executable = (f: string) => {
  try {
    accessSync(f, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Finds Karpenter (KAITO_KARPENTER_BIN, else the build cache) and its CRDs, building both with
 * `scripts/control-plane-binaries.sh --karpenter` when missing (about 2 minutes, once).
 */
export async function ensureKarpenter(
  o: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<KarpenterInstall> {
  const env = o.env ?? process.env;
  const log = o.log ?? ((l) => process.stderr.write(`${l}\n`));
  const override = env.KAITO_KARPENTER_BIN;
  if (override && !executable(override))
    throw new UserError(
      `KAITO_KARPENTER_BIN points at ${override}, which is not an executable file; fix or unset it.`,
    );
  let dir = await script(["--print-karpenter"], log, env);
  const ready = () =>
    (override || executable(path.join(dir, "karpenter"))) &&
    existsSync(path.join(dir, "crds", "karpenter.sh_nodeclaims.yaml"));
  if (!ready()) {
    log(`control-plane: building Karpenter's kwok provider (cached in ${dir})`);
    dir = await script(["--karpenter"], log, env);
    if (!ready())
      throw new UserError(
        "the Karpenter build left no binary; run scripts/control-plane-binaries.sh --karpenter to see why.",
      );
  }
  return { binary: override || path.join(dir, "karpenter"), crdDir: path.join(dir, "crds") };
}

/** Installs the module's CRDs (idempotent) and waits until they are served. */
export async function installKarpenterCrds(
  target: ApiTarget,
  crdDir: string,
  clock: Clock = systemClock,
  only?: readonly string[],
): Promise<void> {
  const crds = readCrds(crdDir).filter((c) => !only || only.includes(c.metadata.name));
  await installCrds(target, crds, clock);
}

export interface KarpenterOptions {
  install: KarpenterInstall;
  kubeconfigPath: string;
  target: ApiTarget;
  /** Where its log and the instance-types file go. */
  dir: string;
  /** The JSON array the kwok provider reads (INSTANCE_TYPES_FILE_PATH). */
  instanceTypes: unknown[];
  /** How long a KWOKNodeClass's nodes take to register (default 1 s). */
  registrationDelaySeconds?: number;
  /** FEATURE_GATES; default Karpenter's own. */
  featureGates?: string;
  clock?: Clock;
}

export interface RunningKarpenter {
  readonly process: ManagedProcess;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The KWOKNodeClass NodeClaims point at on the local cluster. */
export const localNodeClassName = "default";

/**
 * Installs Karpenter's CRDs, creates the KWOKNodeClass `default`, writes the instance-types file
 * and starts Karpenter (no leader election, metrics and health on free loopback ports), waiting
 * until its health endpoint answers.
 */
export async function startKarpenter(o: KarpenterOptions): Promise<RunningKarpenter> {
  const clock = o.clock ?? systemClock;
  await installKarpenterCrds(o.target, o.install.crdDir, clock);
  const nodeClass = {
    apiVersion: "karpenter.kwok.sh/v1alpha1",
    kind: "KWOKNodeClass",
    metadata: { name: localNodeClassName },
    spec: { nodeRegistrationDelay: `${Math.max(0, Math.round(o.registrationDelaySeconds ?? 1))}s` },
  };
  const res = await apiRequest(
    o.target,
    "PATCH",
    `/apis/karpenter.kwok.sh/v1alpha1/kwoknodeclasses/${localNodeClassName}?fieldManager=kaito&force=true`,
    JSON.stringify(nodeClass),
    "application/apply-patch+yaml",
  );
  if (res.status >= 300) throw new Error(`creating the KWOKNodeClass failed: HTTP ${res.status} ${res.body}`);

  mkdirSync(o.dir, { recursive: true });
  const typesFile = path.join(o.dir, "karpenter-instance-types.json");
  writeFileSync(typesFile, JSON.stringify(o.instanceTypes));
  const [metrics, health] = [await freePort(), await freePort()];
  const logFile = path.join(o.dir, "karpenter.log");
  const process_ = new ManagedProcess({
    name: "karpenter",
    command: o.install.binary,
    args: [],
    logFile,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: o.kubeconfigPath,
      DISABLE_LEADER_ELECTION: "true",
      METRICS_PORT: String(metrics),
      HEALTH_PROBE_PORT: String(health),
      INSTANCE_TYPES_FILE_PATH: typesFile,
      LOG_LEVEL: "info",
      ...(o.featureGates ? { FEATURE_GATES: o.featureGates } : {}),
    },
  });
  const deadline = clock.now() + 60_000;
  for (;;) {
    if (!process_.running)
      throw new Error(`Karpenter exited during start-up; its log ends with:\n${process_.logTail()}`);
    const ok = await fetch(`http://127.0.0.1:${health}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (clock.now() > deadline) {
      await process_.stop();
      throw new Error(
        `Karpenter did not become ready within 60 s; its log ends with:\n${process_.logTail()}`,
      );
    }
    await clock.sleep(200);
  }
  return { process: process_, logFile, stop: async () => void (await process_.stop()) };
}

/** The CRD files of a Karpenter install, for messages. */
export function karpenterCrdNames(install: KarpenterInstall): string[] {
  return readdirSync(install.crdDir).filter((f) => f.endsWith(".yaml"));
}
