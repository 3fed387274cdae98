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
