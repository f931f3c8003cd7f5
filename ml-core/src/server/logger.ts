/**
 * Structured logs: one JSON object per line on stdout, which SageMaker ships to CloudWatch Logs
 * where the fields can be queried (Logs Insights parses JSON lines).
 *
 * Lines are buffered and written once per event-loop turn: an access log line per request would
 * otherwise cost a write(2) each (stdout to a file or pipe is synchronous in Node), measurably
 * lowering throughput on small requests.
 */
import * as fs from "node:fs";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  enabled(level: Exclude<LogLevel, "silent">): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Writes buffered lines now (before exiting). */
  flush(): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** File descriptor to write to. @default 1 (stdout) */
  fd?: number;
  /** Fields added to every line (`pid`, `worker`). */
  base?: LogFields;
  /** Where lines go instead of `fd` (tests). */
  sink?: (text: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const threshold = RANK[level];
  const fd = options.fd ?? 1;
  const baseText = options.base && Object.keys(options.base).length > 0 ? JSON.stringify(options.base).slice(1, -1) + "," : "";
  const sink =
    options.sink ??
    ((text: string) => {
      try {
        fs.writeSync(fd, text);
      } catch {
        // A closed or full stdout must not take the server down; the lines are lost.
      }
    });
  let pending = "";
  let scheduled = false;
  // Formatting a date costs more than the rest of an access log line; requests within the same
  // millisecond share one.
  let lastMs = 0;
  let lastIso = "";
  const now = (): string => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };

  const flush = (): void => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    sink(text);
  };

  const write = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < threshold) return;
    let line = `{"time":"${now()}","level":"${lvl}",${baseText}"msg":${JSON.stringify(msg)}`;
    if (fields !== undefined) {
      const rest = safeStringify(fields);
      if (rest.length > 2) line += "," + rest.slice(1);
      else line += "}";
    } else {
      line += "}";
    }
    pending += line + "\n";
    if (pending.length > 65536) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush).unref();
    }
  };

  return {
    level,
    enabled: (lvl) => RANK[lvl] >= threshold,
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    flush,
  };
}

function safeStringify(fields: LogFields): string {
  try {
    // A replacer takes JSON.stringify off its fast path; only errors (whose fields are not
    // enumerable) need one.
    for (const key in fields) {
      if (fields[key] instanceof Error) {
        return JSON.stringify(fields, (_key, value: unknown) =>
          value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
        );
      }
    }
    return JSON.stringify(fields);
  } catch {
    return "{}";
  }
}

/** The level a LOG_LEVEL value names (unset means info), or undefined when it names none. */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  if (text === undefined || text === "") return "info";
  const lower = text.trim().toLowerCase();
  // Python's spellings, as SageMaker users set them for the scikit-learn containers.
  const alias: Record<string, LogLevel> = { warning: "warn", critical: "error", fatal: "error", trace: "debug", off: "silent" };
  const level = alias[lower] ?? lower;
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
}
