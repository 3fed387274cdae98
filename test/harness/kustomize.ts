import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";

/**
 * The part of `kubectl kustomize` that deploy/ uses, so tests can build every overlay without a
 * kubectl: `resources` (files, and directories holding a kustomization), `patches` of JSON patch
 * operations (RFC 6902: add, replace, remove) by `path` or inline `patch`, aimed by `target`
 * kind and name, and `configMapGenerator` from files. One difference, on purpose: a generated
 * ConfigMap keeps its plain name, where kustomize appends a hash of its content (and rewrites the
 * references); deploy/manifests.test.ts compares this with the real kustomize where kubectl exists.
 * Anything else in a kustomization is refused, so deploy/ cannot quietly outgrow it.
 */
export interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [key: string]: unknown;
}

interface Kustomization {
  resources?: string[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string } }[];
  configMapGenerator?: {
    name: string;
    namespace?: string;
    files: string[];
    options?: { labels?: Record<string, string> };
  }[];
}

const known = new Set(["apiVersion", "kind", "resources", "patches", "configMapGenerator"]);

export function kustomizeBuild(dir: string): Manifest[] {
  const file = path.join(dir, "kustomization.yaml");
  const k = parse(readFileSync(file, "utf8")) as Kustomization;
  for (const key of Object.keys(k))
    if (!known.has(key)) throw new Error(`${file}: the test's kustomize does not handle "${key}"`);
  const out: Manifest[] = [];
  for (const r of k.resources ?? []) {
    const target = path.join(dir, r);
    if (existsSync(target) && statSync(target).isDirectory()) out.push(...kustomizeBuild(target));
    else out.push(...readManifests(target));
  }
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files) data[path.basename(f)] = readFileSync(path.join(dir, f), "utf8");
    out.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: g.name,
        ...(g.namespace ? { namespace: g.namespace } : {}),
        ...(g.options?.labels ? { labels: g.options.labels } : {}),
      },
      data,
    });
  }
  for (const p of k.patches ?? []) {
    const ops = parse(p.patch ?? readFileSync(path.join(dir, p.path!), "utf8")) as JsonPatchOp[];
    const targets = out.filter(
      (m) =>
        (!p.target?.kind || m.kind === p.target.kind) &&
        (!p.target?.name || m.metadata?.name === p.target.name),
    );
    if (targets.length === 0)
      throw new Error(`${file}: a patch's target ${JSON.stringify(p.target)} matches nothing`);
    for (const t of targets) applyJsonPatch(t, ops);
  }
  return out;
}

export function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

export interface JsonPatchOp {
  op: "add" | "replace" | "remove";
  path: string;
  value?: unknown;
}

/** Applies RFC 6902 operations in place; a path that does not resolve throws. */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOp[]): void {
  for (const op of ops) {
    const keys = op.path
      .split("/")
      .slice(1)
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = keys.pop();
    if (last === undefined) throw new Error(`JSON patch path "${op.path}" names the whole document`);
    let parent: unknown = doc;
    for (const key of keys) {
      parent = (parent as Record<string, unknown> | undefined)?.[key];
      if (parent === undefined || parent === null)
        throw new Error(`JSON patch path "${op.path}" does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        throw new Error(`JSON patch path "${op.path}" is outside the array`);
      if (op.op === "add") parent.splice(index, 0, op.value);
      else if (index >= parent.length) throw new Error(`JSON patch path "${op.path}" does not exist`);
      else if (op.op === "replace") parent[index] = op.value;
      else parent.splice(index, 1);
    } else {
      const o = parent as Record<string, unknown>;
      if (op.op !== "add" && !(last in o)) throw new Error(`JSON patch path "${op.path}" does not exist`);
      if (op.op === "remove") delete o[last];
      else o[last] = op.value;
    }
  }
}
