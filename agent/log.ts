// The agent's logger: leveled lines to stderr, which the initramfs units send
// to the journal and the serial console. Text for people, JSON for machines.
// Written on Node built-ins rather than winston: every first boot would pay
// for loading winston's modules, and nothing here needs its transports.

export type LogLevel = "error" | "warn" | "info" | "debug";
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stderr unless a test captures them. */
  write: (line: string) => void;
}

const settings: LoggerSettings = {
  level: "info",
  format: "text",
  write: (line) => process.stderr.write(line + "\n"),
};

export function configureLog(update: Partial<LoggerSettings>): void {
  Object.assign(settings, update);
}

/** The settings now, to put back with configureLog (the agent sets them per stage). */
export function currentLogSettings(): LoggerSettings {
  return { ...settings };
}

/** A line as it is (a usage error), where the log goes. */
export function writeLogLine(line: string): void {
  settings.write(line);
}

export function logLevelEnabled(level: LogLevel): boolean {
  return RANK[level] <= RANK[settings.level];
}

/** Structured fields: keep them free of secrets (contents, hashes, headers). */
export type LogFields = Record<string, string | number | boolean | undefined>;

function emit(level: LogLevel, message: string, fields?: LogFields): void {
  if (!logLevelEnabled(level)) return;
  if (settings.format === "json") {
    settings.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
    return;
  }
  let line = `flint[${level}]: ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) line += ` ${key}=${typeof value === "string" && /\s/.test(value) ? JSON.stringify(value) : value}`;
    }
  }
  settings.write(line);
}

export const log = {
  error: (message: string, fields?: LogFields) => emit("error", message, fields),
  warn: (message: string, fields?: LogFields) => emit("warn", message, fields),
  info: (message: string, fields?: LogFields) => emit("info", message, fields),
  debug: (message: string, fields?: LogFields) => emit("debug", message, fields),
};
