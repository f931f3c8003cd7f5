/**
 * Structured logs: one JSON object per line on stdout, which SageMaker ships to CloudWatch Logs
 * where the fields can be queried (Logs Insights parses JSON lines).
 *
 * Access log lines (`line`) are copied into a byte buffer at once and written at most every 20 ms
 * (or when it is full):
 * an access log line per request would otherwise cost a write(2) each (stdout to a file or pipe is
 * synchronous in Node), and lines kept as strings until a flush outlive the young generation and
 * make the garbage collector promote them — both measurably lowered throughput on one-row
 * requests. Whoever exits the process calls `flush()`.
 */
import * as fs from "node:fs";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const FLUSH_INTERVAL_MS = 20;
const BUFFER_BYTES = 64 * 1024;

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  enabled(level: Exclude<LogLevel, "silent">): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * A line whose fields are already serialized as JSON members (`"a":1,"b":"x"`), for hot paths
   * such as the access log, where JSON.stringify of an object per request is measurable. Buffered
   * (up to 20 ms); the other methods write at once.
   */
  line(level: Exclude<LogLevel, "silent">, msg: string, members: string): void;
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
  const writeOut = (bytes: Uint8Array): void => {
    if (options.sink !== undefined) return options.sink(Buffer.from(bytes).toString("utf8"));
    try {
      fs.writeSync(fd, bytes);
    } catch {
      // A closed or full stdout must not take the server down; the lines are lost.
    }
  };
  const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
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
    if (used === 0) return;
    const bytes = buffer.subarray(0, used);
    used = 0;
    writeOut(bytes); // synchronous: the buffer is free again afterwards
  };

  // The access log repeats one message: its JSON is kept.
  let lastMsg = "";
  let lastMsgJson = '""';
  const append = (lvl: Exclude<LogLevel, "silent">, msg: string, members: string): void => {
    if (msg !== lastMsg) {
      lastMsg = msg;
      lastMsgJson = JSON.stringify(msg);
    }
    const text = `{"time":"${now()}","level":"${lvl}",${baseText}"msg":${lastMsgJson}${members === "" ? "" : "," + members}}\n`;
    // At most 3 bytes of UTF-8 per UTF-16 unit, so the write below always fits.
    if (used + 3 * text.length > BUFFER_BYTES) {
      flush();
      if (3 * text.length > BUFFER_BYTES) return writeOut(Buffer.from(text, "utf8"));
    }
    used += buffer.write(text, used, "utf8");
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, FLUSH_INTERVAL_MS).unref();
    }
  };
  // Lines with fields objects are the rare ones (start-up, shutdown, errors): written at once, so
  // that "listening" is in the log before the first request is answered.
  const write = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < threshold) return;
    const json = fields === undefined ? "{}" : safeStringify(fields);
    append(lvl, msg, json.slice(1, -1));
    flush();
  };

  return {
    level,
    enabled: (lvl) => RANK[lvl] >= threshold,
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    line: (lvl, msg, members) => {
      if (RANK[lvl] >= threshold) append(lvl, msg, members);
    },
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
