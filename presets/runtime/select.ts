import { UserError } from "../../lib/errors.ts";
import { RUNTIMES, type RuntimeName } from "../types.ts";

/** The default runtime of a Workspace without a kaito.sh/runtime annotation, as in KAITO. */
export const DEFAULT_RUNTIME: RuntimeName = "vllm";

/**
 * The runtime a kaito.sh/runtime annotation names (KAITO compares the exact, lower-case
 * value); absent means vLLM. Anything else is a UserError listing the valid names.
 */
export function runtimeFromAnnotation(value: string | undefined): RuntimeName {
  if (value === undefined) return DEFAULT_RUNTIME;
  if ((RUNTIMES as readonly string[]).includes(value)) return value as RuntimeName;
  throw new UserError(
    `the annotation kaito.sh/runtime must be one of ${RUNTIMES.join(", ")}, not "${value}".`,
  );
}
