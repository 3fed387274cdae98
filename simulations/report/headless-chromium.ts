import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a page did on load, as seen through the DevTools protocol. */
export interface PageCheck {
  /** Console errors, uncaught exceptions and browser log errors (failed loads included). */
  errors: string[];
  /** The value of `expression`, evaluated once the page has loaded. */
  value: unknown;
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--remote-debugging-port=0",
];

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

/**
 * Opens `url` in headless Chromium and reports its console errors. Test tooling for the HTML
 * report: speaks the DevTools protocol over Node's built-in WebSocket, so it needs no package.
 * Throws when Chromium is missing, so a test can never pass without a browser.
 */
export async function checkPage(
  url: string,
  expression: string,
  options: { binary?: string; timeoutMs?: number } = {},
): Promise<PageCheck> {
  const binary = options.binary ?? CHROMIUM;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!existsSync(binary)) {
    throw new Error(
      `Chromium is not installed at ${binary}: install the Debian package (apt-get install -y chromium) or set CHROMIUM_BIN.`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), "kaito-chromium-"));
  // Its own process group: Chromium forks a zygote and renderers, which must go with it.
  const child = spawn(binary, [...FLAGS, `--user-data-dir=${profile}`, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(killGroup, timeoutMs);
  try {
    const browserUrl = await new Promise<string>((resolve, reject) => {
      let err = "";
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) =>
        reject(new Error(`Chromium exited (${code}) before DevTools was up: ${err.slice(-500)}`)),
      );
      child.on("error", reject);
    });
    const { host } = new URL(browserUrl);
    const targets = (await (await fetch(`http://${host}/json/list`)).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === "page");
    if (!page) throw new Error("Chromium opened no page target");
    return await inspect(page.webSocketDebuggerUrl, url, expression);
  } finally {
    clearTimeout(timer);
    killGroup();
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r),
    );
    rmSync(profile, { recursive: true, force: true });
  }
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

async function inspect(wsUrl: string, url: string, expression: string): Promise<PageCheck> {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot connect to ${wsUrl}`)), { once: true });
  });
  const errors: string[] = [];
  const pending = new Map<number, (m: CdpMessage) => void>();
  let loaded: () => void = () => {};
  const load = new Promise<void>((r) => (loaded = r));
  ws.addEventListener("message", (ev: MessageEvent) => {
    const msg = JSON.parse(String(ev.data)) as CdpMessage;
    if (msg.id !== undefined) return pending.get(msg.id)?.(msg);
    const p = msg.params ?? {};
    if (msg.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) {
      errors.push(`console.${String(p.type)}: ${JSON.stringify(p.args)}`);
    } else if (msg.method === "Runtime.exceptionThrown") {
      errors.push(`exception: ${JSON.stringify(p.exceptionDetails)}`);
    } else if (msg.method === "Log.entryAdded") {
      const entry = p.entry as { level: string; text: string; url?: string };
      if (entry.level === "error") errors.push(`log: ${entry.text} ${entry.url ?? ""}`.trim());
    } else if (msg.method === "Page.loadEventFired") {
      loaded();
    }
  });
  let seq = 0;
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<CdpMessage>((resolve, reject) => {
      const id = ++seq;
      pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send("Runtime.enable");
    await send("Log.enable");
    await send("Page.enable");
    await send("Page.navigate", { url });
    await load;
    const r = await send("Runtime.evaluate", { expression, returnByValue: true });
    return { errors, value: (r.result?.result as { value?: unknown } | undefined)?.value };
  } finally {
    ws.close();
  }
}
