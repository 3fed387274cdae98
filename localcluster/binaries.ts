import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { UserError } from "../lib/errors.ts";

export const componentNames = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
] as const;
export type ComponentName = (typeof componentNames)[number];
export type BinaryPaths = Record<ComponentName, string>;

const buildScript = path.resolve(import.meta.dirname, "../scripts/control-plane-binaries.sh");

/** `KAITO_KUBE_APISERVER_BIN` for kube-apiserver: the override a user sets for a prebuilt binary. */
export function binaryEnvVar(name: ComponentName): string {
  return `KAITO_${name.toUpperCase().replaceAll("-", "_")}_BIN`;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * Finds each binary, in the order envtest uses: its env var, the build cache, then PATH.
 * Returns the missing ones too, so the caller decides whether to build.
 */
export function locateBinaries(cacheDir: string, env: NodeJS.ProcessEnv = process.env) {
  const found: Partial<BinaryPaths> = {};
  const missing: ComponentName[] = [];
  for (const name of componentNames) {
    const override = env[binaryEnvVar(name)];
    if (override) {
      if (!isExecutable(override)) {
        throw new UserError(
          `${binaryEnvVar(name)} points at ${override}, which is not an executable file; fix or unset it.`,
        );
      }
      found[name] = override;
      continue;
    }
    const cached = path.join(cacheDir, name);
    const located = isExecutable(cached) ? cached : onPath(name, env);
    if (located) found[name] = located;
    else missing.push(name);
  }
  return { found, missing };
}

function runScript(args: string[], log: (line: string) => void, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [buildScript, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderrTail = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      stderrTail = (stderrTail + text).slice(-2000);
      for (const line of text.split("\n")) if (line.startsWith("control-plane:")) log(line);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout.trim().split("\n").pop() ?? "");
      const last = stderrTail.trim().split("\n").pop() ?? "";
      reject(new UserError(`building the control-plane binaries failed (exit ${code}): ${last}`));
    });
  });
}

/**
 * Returns a path for every control-plane binary, building the missing ones with
 * scripts/control-plane-binaries.sh (which caches them outside the git tree).
 */
export async function ensureBinaries(
  options: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<BinaryPaths> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const cacheDir = await runScript(["--print"], log, env);
  let { found, missing } = locateBinaries(cacheDir, env);
  if (missing.length > 0) {
    log(`control-plane: building ${missing.join(", ")} (cached in ${cacheDir})`);
    await runScript([], log, env);
    ({ found, missing } = locateBinaries(cacheDir, env));
    if (missing.length > 0)
      throw new UserError(
        `the build did not produce ${missing.join(", ")}; run scripts/control-plane-binaries.sh to see why.`,
      );
  }
  return found as BinaryPaths;
}
