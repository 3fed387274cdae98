export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line, e.g. { controller: "workspace" }. */
  with(fields: LogFields): Logger;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** JSON lines, one per entry, written by `write` (stderr by default). */
export function jsonLogger(
  options: { level?: LogLevel; write?: (line: string) => void; now?: () => number; fields?: LogFields } = {},
): Logger {
  const min = order[options.level ?? "info"];
  const write = options.write ?? ((line) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (order[level] < min) return;
    write(
      `${JSON.stringify({ time: new Date(now()).toISOString(), level, msg: message, ...base, ...fields })}\n`,
    );
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => jsonLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

export interface TextLoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => number;
  fields?: LogFields;
  /** ANSI colours for the level (a terminal that wants them). */
  color?: boolean;
}

const colors: Record<LogLevel, string> = {
  debug: "\x1b[2m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

function textValue(v: unknown): string {
  const list = Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null);
  const s =
    typeof v === "string"
      ? v
      : v instanceof Error
        ? v.message
        : list
          ? (v as unknown[]).join(",")
          : JSON.stringify(v);
  return s !== undefined && /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s ?? String(v));
}

/**
 * Short lines for a person at a terminal: local time, level, the component (or controller) it
 * comes from, the message, then the other fields as key=value.
 *   14:03:07 INFO  [leader-election] became leader lease=kaito-system/kaito-ts-manager
 */
export function textLogger(options: TextLoggerOptions = {}): Logger {
  const min = order[options.level ?? "info"];
  const write = options.write ?? ((line) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const { component, controller, ...rest } = { ...base, ...fields };
    const t = new Date(now());
    const time = [t.getHours(), t.getMinutes(), t.getSeconds()]
      .map((n) => String(n).padStart(2, "0"))
      .join(":");
    const tag = level.toUpperCase().padEnd(5);
    const who = [component, controller].filter((x) => x !== undefined).join("/");
    const parts = [
      time,
      options.color ? `${colors[level]}${tag}\x1b[0m` : tag,
      ...(who ? [`[${who}]`] : []),
      message,
      ...Object.entries(rest)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${textValue(v)}`),
    ];
    write(`${parts.join(" ")}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => textLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

export type LogFormat = "text" | "json";
export const logFormats: readonly LogFormat[] = ["text", "json"];

/**
 * The logger a command writes to `stream` with: text on a terminal, JSON lines for anything
 * else (a log collector, a file, a pipe), unless `format` says which.
 */
export function streamLogger(
  stream: { write(line: string): unknown; isTTY?: boolean },
  options: { format?: LogFormat; level?: LogLevel; env?: NodeJS.ProcessEnv } = {},
): Logger {
  const format = options.format ?? (stream.isTTY ? "text" : "json");
  const write = (line: string) => void stream.write(line);
  if (format === "json") return jsonLogger({ level: options.level, write });
  const color = !!stream.isTTY && !(options.env ?? process.env).NO_COLOR;
  return textLogger({ level: options.level, write, color });
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
};
