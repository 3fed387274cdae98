import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { errorMessage, UserError } from "../../lib/errors.ts";
import {
  ALL_POLICY_NAMES,
  parseScenario,
  POLICY_NAMES,
  renderReport,
  runSimulation,
  type PolicyName,
  type SimulationResult,
} from "../../simulations/index.ts";
import { SUMMARY_HEADER, SUMMARY_NUMERIC, summaryRow } from "../../simulations/summary.ts";
import { formatTable, outputFormat } from "./presets.ts";

const usage = `Usage: npm run kaito -- simulate SCENARIO.yaml [--report DIR] [--policies LIST] [-o table|json]

Replays a capacity scenario (workspace arrivals and departures, model mix, quotas, provisioning
delays and failures) on simulated time through each placement policy: milp (the planner, as the
controller runs it), ffd (first-fit decreasing) and dedicated (KAITO's node per replica).
Deterministic for a seed. Scenarios to start from: simulations/scenarios/.

Options:
  --report DIR          also write DIR/index.html: summary and SVG charts, self-contained
  --policies LIST       the policies to run, comma-separated (default: ${POLICY_NAMES.join(",")}); also
                        milp-one-at-a-time (no batching window) and milp-quota-blind (scarce quota
                        not priced), to see what each part of the controller's policy is worth
  -o, --output FORMAT   table (default) or json (per-policy metrics, without time series)
  -h, --help            show this help
`;

export const simulateCommand: Command = {
  name: "simulate",
  summary: "simulate GPU capacity and cost of a workload scenario under each placement policy",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { report: { type: "string" }, policies: { type: "string" }, output: { type: "string", short: "o" } },
      "simulate",
      true,
    );
    const format = outputFormat(values.output, "simulate");
    if (positionals.length !== 1) {
      throw new UserError(
        `simulate takes one scenario file, got ${positionals.length}; run \`npm run kaito -- simulate --help\`.`,
      );
    }
    const file = positionals[0]!;
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, file), "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : errorMessage(e)}.`);
    }
    const scenario = parseScenario(text, file);
    const policies = policyList(values.policies);
    const progress = progressBar(io.stderr);
    const result = await runSimulation(scenario, {
      ...(policies ? { policies } : {}),
      ...(progress ? { onProgress: progress.update } : {}),
    });
    progress?.done();

    if (values.report !== undefined) {
      const dir = resolve(io.cwd, values.report);
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, "index.html"), renderReport(result));
      } catch (e) {
        throw new UserError(`cannot write the report to ${values.report}: ${errorMessage(e)}.`);
      }
    }
    io.stdout.write(
      format === "json" ? `${JSON.stringify(toJson(result), null, 2)}\n` : formatSummary(result),
    );
    if (values.report !== undefined && format === "table")
      io.stdout.write(`\nreport: ${join(values.report, "index.html")}\n`);
    return 0;
  },
};

function policyList(raw: string | undefined): PolicyName[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(",").map((n) => n.trim());
  for (const n of names) {
    if (!(ALL_POLICY_NAMES as readonly string[]).includes(n)) {
      throw new UserError(`--policies: "${n}" is not a policy; choose from ${ALL_POLICY_NAMES.join(", ")}.`);
    }
  }
  return names as PolicyName[];
}

export function formatSummary(result: SimulationResult): string {
  const { scenario } = result;
  const head = `scenario ${scenario.name}: ${result.arrivals} workspaces, seed ${scenario.seed}\n\n`;
  return head + formatTable([[...SUMMARY_HEADER], ...result.results.map(summaryRow)], SUMMARY_NUMERIC);
}

function toJson(result: SimulationResult) {
  return {
    scenario: result.scenario.name,
    seed: result.scenario.seed,
    arrivals: result.arrivals,
    policies: result.results.map(({ samples: _samples, timeToReady: _ttr, ...rest }) => rest),
  };
}

/** A one-line bar redrawn in place; only on a terminal, so logs and pipes stay clean. */
function progressBar(stream: Writable): { update: (f: number) => void; done: () => void } | undefined {
  const tty = stream as Writable & { isTTY?: boolean; columns?: number };
  if (!tty.isTTY) return undefined;
  let shown = -1;
  return {
    update(f) {
      const pct = Math.floor(f * 100);
      if (pct === shown) return;
      shown = pct;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      stream.write(`\rsimulating [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}%`);
    },
    done() {
      stream.write("\r\x1b[2K");
    },
  };
}
