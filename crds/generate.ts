#!/usr/bin/env node
// Writes crds/*.yaml from the TypeScript schemas. `--check` writes nothing and exits 1 when a
// manifest on disk differs from what the schemas say (for CI).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { renderAll } from "./render.ts";

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  let stale = 0;
  for (const file of await renderAll()) {
    const name = path.relative(process.cwd(), file.path);
    const current = await readFile(file.path, "utf8").catch(() => undefined);
    if (current === file.content) continue;
    if (check) {
      process.stderr.write(`${name} is out of date: run \`node crds/generate.ts\`.\n`);
      stale++;
    } else {
      await writeFile(file.path, file.content);
      process.stdout.write(`wrote ${name}\n`);
    }
  }
  return stale ? 1 : 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
