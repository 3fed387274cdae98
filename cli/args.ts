import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../lib/errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * node:util parseArgs with its errors turned into one-sentence user errors.
 * `usageHint` is the command name, used in "run `kaito <name> --help`".
 */
export function parseCommandArgs<T extends Options>(
  args: string[],
  options: T,
  usageHint: string,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    // node's messages run on with advice about `--` that does not fit here: keep the first
    // sentence ("Unknown option '--x'", "Unexpected argument 'y'", "Option '--z <value>' argument missing").
    const message = (e instanceof Error ? e.message : String(e)).split(/\.(?:\s|$)/)[0]!;
    throw new UserError(`${message}; run \`npm run kaito -- ${usageHint} --help\` for the options.`);
  }
}

const durationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration flag as Kubernetes components take them ("15s", "1500ms", "1m30s"), or a bare
 * number of seconds; returns milliseconds or throws a user error naming the flag.
 */
export function parseDuration(value: string, flag: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    throw new UserError(`${flag} must be a duration such as 15s, 1500ms or 1m, got "${value}".`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * durationUnits[p[2]!]!, 0);
}
