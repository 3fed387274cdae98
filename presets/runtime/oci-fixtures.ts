import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * For tests: stand-ins for `oras` and `skopeo` that keep a registry as a directory, so the
 * pusher and puller scripts of contract.ts run for real under /bin/sh (their tar, gzip,
 * sha256sum, cp and mktemp are the machine's) and the test can open what they wrote.
 *
 * Modelled: `oras push --registry-config F --config FILE:TYPE --annotation-file F REF
 * FILE:TYPE...` stores the config and layer blobs under their sha256 and a manifest listing them;
 * `skopeo copy --dest-decompress [--authfile F] docker://REF dir:DIR` writes the manifest and each
 * layer decompressed, named by the hex digest of its content (as skopeo's dir: transport does);
 * `skopeo inspect --format '{{range .Layers}}{{.}} {{end}}' dir:DIR` prints those digests. A
 * reference never pushed fails the copy, as a registry's 404 does. Not modelled: registry
 * authentication, manifest lists, whiteouts, media-type negotiation.
 */
const oras = `#!/bin/sh
set -eu
[ "$1" = push ] || { echo "oras stub: only push" >&2; exit 2; }
shift
config=""; ref=""; layers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --registry-config|--annotation-file) [ -f "$2" ] || { echo "oras stub: $2 missing" >&2; exit 2; }; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    -*) echo "oras stub: unknown flag $1" >&2; exit 2 ;;
    *) if [ -z "$ref" ]; then ref="$1"; else layers="$layers $1"; fi; shift ;;
  esac
done
store="$REGISTRY/$(printf '%s' "$ref" | tr '/:@' '___')"
mkdir -p "$store/blobs"
cfg_file="\${config%%:*}"; cfg_type="\${config#*:}"
cfg_digest="$(sha256sum "$cfg_file" | cut -d ' ' -f 1)"
cp "$cfg_file" "$store/blobs/$cfg_digest"
echo "config $cfg_digest $cfg_type" > "$store/manifest"
for l in $layers; do
  file="\${l%%:*}"; type="\${l#*:}"
  d="$(sha256sum "$file" | cut -d ' ' -f 1)"
  cp "$file" "$store/blobs/$d"
  echo "layer $d $type" >> "$store/manifest"
done
`;

const skopeo = `#!/bin/sh
set -eu
cmd="$1"; shift
if [ "$cmd" = inspect ]; then
  [ "$1" = --format ] || exit 2
  dir="\${3#dir:}"
  while read -r kind d; do [ "$kind" = layer ] && printf 'sha256:%s ' "$d"; done < "$dir/manifest.json"
  echo
  exit 0
fi
[ "$cmd" = copy ] || exit 2
src=""; dst=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dest-decompress) shift ;;
    --authfile) [ -f "$2" ] || exit 2; shift 2 ;;
    docker://*) src="\${1#docker://}"; shift ;;
    dir:*) dst="\${1#dir:}"; shift ;;
    *) echo "skopeo stub: unknown argument $1" >&2; exit 2 ;;
  esac
done
store="$REGISTRY/$(printf '%s' "$src" | tr '/:@' '___')"
[ -f "$store/manifest" ] || { echo "skopeo stub: manifest unknown for $src" >&2; exit 1; }
mkdir -p "$dst"
: > "$dst/manifest.json"
while read -r kind d type; do
  if [ "$kind" = layer ]; then
    case "$type" in *gzip) gzip -dc "$store/blobs/$d" > "$dst/tmp" ;; *) cp "$store/blobs/$d" "$dst/tmp" ;; esac
    u="$(sha256sum "$dst/tmp" | cut -d ' ' -f 1)"
    mv "$dst/tmp" "$dst/$u"
    echo "layer $u" >> "$dst/manifest.json"
  else
    cp "$store/blobs/$d" "$dst/$d"
    echo "config $d" >> "$dst/manifest.json"
  fi
done < "$store/manifest"
`;

/** Installs the stand-ins in `dir/bin` and returns the environment that puts them first on PATH. */
export function registryStandIns(dir: string): Record<string, string> {
  const bin = path.join(dir, "bin");
  const registry = path.join(dir, "registry");
  mkdirSync(bin, { recursive: true });
  mkdirSync(registry, { recursive: true });
  for (const [name, body] of Object.entries({ oras, skopeo })) {
    writeFileSync(path.join(bin, name), body);
    chmodSync(path.join(bin, name), 0o755);
  }
  return { PATH: `${bin}:/usr/bin:/bin`, REGISTRY: registry, TMPDIR: path.join(dir) };
}

/** Where the oras stand-in stored `ref`: its manifest lines and blob directory. */
export function storedImage(env: Record<string, string>, ref: string): string {
  return path.join(env.REGISTRY!, ref.replace(/[/:@]/g, "_"));
}

/**
 * Runs a container's command under /bin/sh on this machine with `env`, after replacing each
 * container path in its arguments by the local directory `paths` maps it to. Returns stderr and
 * the exit code.
 */
export function runContainerScript(
  command: readonly string[],
  env: Record<string, string>,
  paths: Record<string, string>,
): { code: number; stderr: string } {
  const mapped = command.slice(1).map((a) => paths[a] ?? a);
  try {
    execFileSync(command[0]!, mapped, { env, stdio: ["ignore", "ignore", "pipe"], timeout: 20_000 });
    return { code: 0, stderr: "" };
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer };
    return { code: err.status ?? 1, stderr: err.stderr?.toString() ?? "" };
  }
}
