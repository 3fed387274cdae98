import { describe, expect, it } from "vitest";
import { streamLogger, textLogger } from "./log.ts";

const at = new Date(2026, 0, 2, 14, 3, 7).getTime();

describe("textLogger", () => {
  it("prints time, level, component and message, then the other fields as key=value", () => {
    const lines: string[] = [];
    const log = textLogger({ write: (l) => lines.push(l), now: () => at }).with({
      component: "leader-election",
    });
    log.info("became leader", {
      lease: "kaito-system/kaito-ts-manager",
      renewals: 3,
      components: ["a", "b"],
    });
    log.warn("list/watch failed, retrying", { error: "connect ECONNREFUSED 127.0.0.1:6443", retryInMs: 200 });
    expect(lines).toEqual([
      "14:03:07 INFO  [leader-election] became leader lease=kaito-system/kaito-ts-manager renewals=3 components=a,b\n",
      '14:03:07 WARN  [leader-election] list/watch failed, retrying error="connect ECONNREFUSED 127.0.0.1:6443" retryInMs=200\n',
    ]);
  });

  it("names the controller beside the component and drops lines below its level", () => {
    const lines: string[] = [];
    const log = textLogger({ write: (l) => lines.push(l), now: () => at, level: "warn" });
    log.info("not shown");
    log.with({ component: "manager", controller: "workspace" }).error("reconcile failed", { key: "ns/ws" });
    expect(lines).toEqual(["14:03:07 ERROR [manager/workspace] reconcile failed key=ns/ws\n"]);
  });
});

describe("streamLogger", () => {
  const sink = (isTTY: boolean) => {
    const lines: string[] = [];
    return { lines, stream: { isTTY, write: (l: string) => lines.push(l) } };
  };

  it("writes text to a terminal and JSON lines to anything else", () => {
    const tty = sink(true);
    streamLogger(tty.stream, { env: { NO_COLOR: "1" } }).info("hello", { a: 1 });
    expect(tty.lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}hello a=1\n$/);
    const pipe = sink(false);
    streamLogger(pipe.stream).info("hello", { a: 1 });
    expect(JSON.parse(pipe.lines[0]!)).toMatchObject({ level: "info", msg: "hello", a: 1 });
  });

  it("follows an explicit format over the guess, and colours the level only on a terminal that wants it", () => {
    const tty = sink(true);
    streamLogger(tty.stream, { format: "json" }).info("x");
    expect(JSON.parse(tty.lines[0]!).msg).toBe("x");
    const colored = sink(true);
    streamLogger(colored.stream, { env: {} }).error("x");
    expect(colored.lines[0]).toContain("\x1b[31mERROR\x1b[0m");
    const pipe = sink(false);
    streamLogger(pipe.stream, { format: "text" }).error("x");
    expect(pipe.lines[0]).not.toContain("\x1b[");
  });
});
