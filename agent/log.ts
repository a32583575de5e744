// The agent's logger: leveled lines to stderr, which the initramfs units send
// to the journal and the serial console. Text for people, JSON for machines.
// Written on Node built-ins rather than winston: every first boot would pay
// for loading winston's modules, and nothing here needs its transports.

import { writeSync } from "node:fs";
import { currentScope, setProcessLogWriter } from "./scope";

export type LogLevel = "error" | "warn" | "info" | "debug";
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

/** A scope's logging (scope.ts): the process's goes to stderr, each agent request's to its client. */
export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go, one at a time, with the level of a log line (none for a usage error). */
  write: (line: string, level?: LogLevel) => void;
}

/**
 * What goes to stderr, gathered and written at the end of the current turn of
 * the event loop (or once 64 KiB are waiting) with one write(2): a files
 * stage logs a line per entry, and process.stderr.write costs some 5 µs a
 * line (a stream, then a write each), 50–80 ms at 10,000 entries.
 */
let pending = "";
let flushScheduled = false;
const FLUSH_AT = 64 * 1024;

/** Text for stderr, in order with the log's lines. */
export function writeStderr(text: string): void {
  pending += text;
  if (pending.length >= FLUSH_AT) flushStderr();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushStderr);
  }
}

/** Writes what waits for stderr now (also when the process exits, however it exits but a kill). */
export function flushStderr(): void {
  flushScheduled = false;
  const text = pending;
  pending = "";
  writeNow(2, text);
}

/**
 * `text` to stdout (1) or stderr (2) with write(2), without Node's stream
 * for it (which loads some twenty modules on first use: a tenth of the
 * instructions of `flint --version`).
 */
export function writeNow(fd: 1 | 2, text: string): void {
  let bytes = Buffer.from(text);
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
    } catch (e) {
      // A non-blocking pipe that is full: Node's stream queues the rest.
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      (fd === 1 ? process.stdout : process.stderr).write(bytes);
      return;
    }
  }
}
process.on("exit", flushStderr);

setProcessLogWriter((line) => writeStderr(line + "\n"));

/** Changes the current scope's logging: the process's, or one agent request's. */
export function configureLog(update: Partial<LogSettings>): void {
  Object.assign(currentScope().log, update);
}

/** A line as it is (a usage error), where the log goes. */
export function writeLogLine(line: string): void {
  currentScope().log.write(escapeControls(line));
}

export function logLevelEnabled(level: LogLevel): boolean {
  return RANK[level] <= RANK[currentScope().log.level];
}

/**
 * A text line stays one line: a newline or other control character from a
 * config (a path) or a tool is shown escaped, so no text can pose as a line
 * of its own in the journal or on the console.
 */
function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(text) ? text.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)) : text;
}

/** Structured fields: keep them free of secrets (contents, hashes, headers). */
export type LogFields = Record<string, string | number | boolean | undefined>;

function emit(level: LogLevel, message: string, fields?: LogFields): void {
  const settings = currentScope().log;
  if (RANK[level] > RANK[settings.level]) return;
  if (settings.format === "json") {
    settings.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }), level);
    return;
  }
  let line = `flint[${level}]: ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) line += ` ${key}=${typeof value === "string" && /\s/.test(value) ? JSON.stringify(value) : value}`;
    }
  }
  settings.write(escapeControls(line), level);
}

export const log = {
  error: (message: string, fields?: LogFields) => emit("error", message, fields),
  warn: (message: string, fields?: LogFields) => emit("warn", message, fields),
  info: (message: string, fields?: LogFields) => emit("info", message, fields),
  debug: (message: string, fields?: LogFields) => emit("debug", message, fields),
};
