import type { Command } from "../command.ts";
import { upCommand } from "./up.ts";
import { controllerCommand } from "./controller.ts";
import { presetsCommand } from "./presets.ts";
import { estimateCommand } from "./estimate.ts";
import { planCommand } from "./plan.ts";
import { simulateCommand } from "./simulate.ts";

/** Every CLI command, in the order `kaito --help` lists them. */
export const commands: readonly Command[] = [
  upCommand,
  controllerCommand,
  planCommand,
  simulateCommand,
  presetsCommand,
  estimateCommand,
];
