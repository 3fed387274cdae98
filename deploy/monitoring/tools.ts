import { accessSync, constants } from "node:fs";
import path from "node:path";

/**
 * The path of promtool or prometheus (Debian's prometheus package ships both in /usr/bin). A
 * missing binary is a setup problem, so the error says how to fix it rather than failing later
 * with ENOENT.
 */
export function prometheusBinary(name: "promtool" | "prometheus", env = process.env): string {
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(
    `${name} is not installed: install Debian's prometheus package (apt-get install prometheus), which provides promtool and prometheus; .ci/run installs it in CI.`,
  );
}
