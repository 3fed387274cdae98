// No Docker engine runs here, so `docker build` is not part of the tests; what can break the image
// without one is a source file the CLI imports that the Dockerfile does not copy.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "..");

/** Relative imports of a TypeScript file, static and dynamic, resolved to absolute paths. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1]!,
  );
  return specifiers.map((s) => path.resolve(path.dirname(file), s));
}

/** Every file reachable from `entry` through relative imports. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (file.endsWith(".ts")) queue.push(...relativeImports(file));
  }
  return seen;
}

/** Top-level folders the Dockerfile's final stage copies from the build context. */
function copiedFolders(): Set<string> {
  const dockerfile = readFileSync(path.join(repo, "Dockerfile"), "utf8");
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  return new Set(
    [...finalStage.matchAll(/^COPY\s+(?!--from)(\S+)\s+\S+\s*$/gm)].map((m) => m[1]!.replace(/^\.\//, "")),
  );
}

describe("the manager image", () => {
  it("copies every source file the CLI imports", () => {
    const copied = copiedFolders();
    const files = [...closure(path.join(repo, "cli/main.ts"))].map((f) => path.relative(repo, f));
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) expect(existsSync(path.join(repo, f)), `${f} exists`).toBe(true);
    const missing = files.filter((f) => !copied.has(f.split(path.sep)[0]!));
    expect(missing, "files the image needs but the Dockerfile does not COPY").toEqual([]);
  });
});
