import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { UserError } from "../../lib/errors.ts";
import { inferenceRequirement, listPresets, type Preset } from "../../presets/index.ts";

const usage = `Usage: npm run kaito -- presets [-o table|json]

Lists the model presets with the GPU memory one inference replica needs under the default
serving settings: vLLM, the model's own dtype, a context of 4096 tokens (or the model's limit if
shorter) and one sequence at a time. TOTAL is what a replica needs in all; MIN/GPU is the
smallest GPU it can run on, split over up to 8 GPUs of one node. Use \`kaito estimate\` for
other settings.

Options:
  -o, --output FORMAT  table (default) or json
  -h, --help           show this help
`;

export type OutputFormat = "table" | "json";

export function outputFormat(value: string | undefined, command: string): OutputFormat {
  const format = value ?? "table";
  if (format !== "table" && format !== "json") {
    throw new UserError(
      `-o must be table or json, got "${format}"; run \`npm run kaito -- ${command} --help\`.`,
    );
  }
  return format;
}

/** Left-aligned columns separated by two spaces; columns listed in `right` are right-aligned. */
export function formatTable(
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/** 7.25B, 410M: parameter counts as model cards write them. */
export function formatParameters(count: number): string {
  return count >= 1e9 ? `${(count / 1e9).toFixed(2)}B` : `${(count / 1e6).toFixed(0)}M`;
}

export function gib(value: number): string {
  return value.toFixed(2);
}

function presetRow(p: Preset) {
  const r = inferenceRequirement(p);
  return {
    name: p.name,
    family: p.family,
    parameters: p.figures.parameters,
    dtype: p.figures.dtype,
    ...(p.figures.quantization ? { quantization: p.figures.quantization } : {}),
    maxContext: p.figures.maxContext,
    totalGpuMemoryGiB: r.totalGpuMemoryGiB,
    minGpuMemoryGiB: r.minGpuMemoryGiB,
    tuning: [...p.tuning],
    runtimes: [...p.runtimes],
    huggingFace: p.huggingFace.revision
      ? `${p.huggingFace.repo}@${p.huggingFace.revision}`
      : p.huggingFace.repo,
  };
}

export const presetsCommand: Command = {
  name: "presets",
  summary: "list the model presets and the GPU memory they need",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(args, { output: { type: "string", short: "o" } }, "presets");
    const format = outputFormat(values.output, "presets");
    const rows = listPresets().map(presetRow);
    if (format === "json") {
      io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    const table = [
      ["NAME", "FAMILY", "PARAMS", "DTYPE", "MAX CONTEXT", "TOTAL GiB", "MIN/GPU GiB", "TUNING"],
      ...rows.map((r) => [
        r.name,
        r.family,
        formatParameters(r.parameters),
        r.quantization ?? r.dtype,
        String(r.maxContext),
        gib(r.totalGpuMemoryGiB),
        gib(r.minGpuMemoryGiB),
        r.tuning.length > 0 ? r.tuning.join(",") : "-",
      ]),
    ];
    io.stdout.write(formatTable(table, new Set([2, 4, 5, 6])));
    return 0;
  },
};
