import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import type { Manifest } from "./kustomize.ts";

const repo = path.resolve(import.meta.dirname, "../..");
export const chartDir = path.join(repo, "charts/kaito-ts");

/**
 * The real helm that scripts/helm-binary.sh builds and caches (KAITO_HELM_BIN overrides). Throws
 * with the command that builds it when it is missing: CI builds it before the tests.
 */
export function helmBinary(): string {
  const bin = execFileSync("bash", [path.join(repo, "scripts/helm-binary.sh"), "--print"], {
    encoding: "utf8",
  }).trim();
  if (!existsSync(bin))
    throw new Error(`helm is not built yet; run \`bash scripts/helm-binary.sh\` (a few minutes, once).`);
  return bin;
}

/** Runs helm; resolves its stdout, or throws with its stderr. */
export function helm(args: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(helmBinary(), args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        HELM_CACHE_HOME: "/tmp/kaito-helm/cache",
        HELM_CONFIG_HOME: "/tmp/kaito-helm/config",
        HELM_DATA_HOME: "/tmp/kaito-helm/data",
        ...env,
      },
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    // helm logs each symlink it follows (crds/ and files/ are links, by design): not the error.
    const stderr = (err.stderr ?? "")
      .split("\n")
      .filter((l) => !l.includes("found symbolic link in path"))
      .join("\n")
      .trim();
    throw new Error(`helm ${args.join(" ")} failed: ${stderr || err.message}`, { cause: e });
  }
}

/** `helm template` of the chart as objects, in the order helm writes them. */
export function helmTemplate(args: string[] = []): Manifest[] {
  const out = helm(["template", "kaito-ts", chartDir, "--namespace", "kaito-system", ...args]);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
