import { describe, expect, it } from "vitest";
import { runCli } from "../main.ts";
import { presetsCommand } from "./presets.ts";
import { isUserError } from "../../lib/errors.ts";
import { listPresets } from "../../presets/index.ts";
import { captureIO, type CapturedIO } from "../test-io.ts";

function io(): CapturedIO {
  return captureIO();
}

describe("kaito presets", () => {
  it("prints one table row per preset with its memory and tuning support", async () => {
    const t = io();
    expect(await presetsCommand.run([], t)).toBe(0);
    const lines = t.out().trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^NAME\s+FAMILY\s+PARAMS\s+DTYPE\s+MAX CONTEXT\s+TOTAL GiB\s+MIN\/GPU GiB\s+TUNING$/,
    );
    expect(lines).toHaveLength(listPresets().length + 1);
    expect(lines.find((l) => l.startsWith("phi-2 "))).toMatch(
      /^phi-2\s+phi\s+2\.78B\s+fp16\s+2048\s+9\.30\s+3\.40\s+lora,qlora$/,
    );
    expect(lines.find((l) => l.startsWith("falcon-7b-instruct "))).toMatch(/17\.62\s+17\.62\s+-$/);
  });

  it("prints JSON for scripts", async () => {
    const t = io();
    expect(await presetsCommand.run(["-o", "json"], t)).toBe(0);
    const rows = JSON.parse(t.out()) as {
      name: string;
      totalGpuMemoryGiB: number;
      tuning: string[];
      huggingFace: string;
    }[];
    expect(rows).toHaveLength(listPresets().length);
    expect(rows.find((r) => r.name === "llama-3.1-8b-instruct")).toMatchObject({
      totalGpuMemoryGiB: 20.57,
      minGpuMemoryGiB: 4.81,
      maxContext: 131072,
      tuning: [],
      huggingFace: "meta-llama/Llama-3.1-8B-Instruct@0e9e39f249a16976918f6564b8830bc894c89659",
    });
  });

  it("rejects an unknown output format and stray arguments as user errors", async () => {
    await expect(presetsCommand.run(["-o", "yaml"], io())).rejects.toSatisfy(
      (e: unknown) => isUserError(e) && /^-o must be table or json, got "yaml"/.test((e as Error).message),
    );
    await expect(presetsCommand.run(["phi-2"], io())).rejects.toSatisfy(isUserError);
  });

  it("is registered with the CLI and reports errors as one line on stderr", async () => {
    const t = io();
    expect(await runCli(["presets", "--output", "csv"], t)).toBe(1);
    expect(t.err()).toBe(
      'kaito presets: -o must be table or json, got "csv"; run `npm run kaito -- presets --help`.\n',
    );
  });
});
