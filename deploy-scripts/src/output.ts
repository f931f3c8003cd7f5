/**
 * Where a command's words go. Progress goes to stderr in both modes, so `--json` keeps stdout a
 * single JSON document that a pipeline can parse while its log still shows what is happening.
 */
export interface Output {
  /** A step starts or finishes: `==> Creating training job churn-dev-…`. */
  step(message: string): void;
  /** Secondary detail under the current step. */
  info(message: string): void;
  /** Something the user should know that does not stop the command. */
  warn(message: string): void;
  /** Verbatim text from a tool we drive (`pulumi preview`), passed through as it streams. */
  passthrough(text: string): void;
  /** The command's result: human text, or the JSON document when `--json`. */
  result(text: string): void;
}

export interface Streams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export function createOutput(streams: Streams): Output {
  const err = (line: string) => streams.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
  return {
    step: (m) => err(`==> ${m}`),
    info: (m) => err(`    ${m}`),
    warn: (m) => err(`warning: ${m}`),
    // Pulumi's own progress is noise inside a JSON consumer's log only if asked for; keep it on
    // stderr either way, it is the preview a reviewer reads.
    passthrough: (t) => streams.stderr.write(t),
    result: (t) => streams.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
  };
}

/** Renders a result for humans as aligned `key  value` lines. */
export function formatFields(fields: ReadonlyArray<readonly [string, string | number | boolean | undefined]>): string {
  const shown = fields.filter(([, v]) => v !== undefined && v !== "");
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${String(v)}`).join("\n");
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${String(sec).padStart(2, "0")}s` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
