// On a failed run inside the initramfs, a short boxed summary goes straight
// to the console (the serial log), so that the cause is visible without a shell.

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { describeError, FlintError } from "../errors";

/** The units set FLINT_CONSOLE=/dev/console; elsewhere nothing is written. */
export function consoleTarget(): string | undefined {
  return process.env.FLINT_CONSOLE || undefined;
}

export function formatFailureBox(command: string, err: unknown): string[] {
  const stage = command.startsWith("flint ") ? command.slice(6) : command;
  const lines = [
    `Flint failed in stage: ${stage}`,
    ...(err instanceof FlintError && err.where ? [`where: ${err.where}`] : []),
    ...(err instanceof Error ? err.message : describeError(err)).split("\n").map((l, i) => (i === 0 ? `what:  ${l}` : `       ${l}`)),
    `more:  journalctl -u flint-${stage}.service ; flint report`,
  ];
  const width = Math.min(100, Math.max(...lines.map((l) => l.length)));
  const clip = (l: string) => (l.length > width ? l.slice(0, width - 1) + "…" : l.padEnd(width));
  return [`+${"-".repeat(width + 2)}+`, ...lines.map((l) => `| ${clip(l)} |`), `+${"-".repeat(width + 2)}+`];
}

/** The failure's one-line reason, for the cloud's check-in (commands/checkin.ts); `FLINT_FAILURE_FILE` moves it in tests. */
export const FAILURE_FILE = process.env.FLINT_FAILURE_FILE || "/run/flint/failure";

export function failureReason(command: string, err: unknown): string {
  const stage = command.startsWith("flint ") ? command.slice(6) : command;
  // A message may go on over several lines ("invalid config:" and its errors): one line for the cloud.
  const message = (err instanceof Error ? err.message : describeError(err)).split("\n").map((l) => l.trim()).filter(Boolean).join(" ");
  const where = err instanceof FlintError && err.where ? `${err.where}: ` : "";
  return `Flint failed in stage ${stage}: ${where}${message}`;
}

export function writeFailureSummary(command: string, err: unknown, extra: string[] = []): void {
  const target = consoleTarget();
  if (!target) return;
  try {
    mkdirSync(dirname(FAILURE_FILE), { recursive: true });
    writeFileSync(FAILURE_FILE, `${failureReason(command, err)}\n`, { mode: 0o600 });
  } catch {
    // Best effort, as the console: the check-in then says no reason was recorded.
  }
  try {
    const fd = openSync(target, "w");
    writeSync(fd, "\n" + [...formatFailureBox(command, err), ...extra].join("\n") + "\n");
    closeSync(fd);
  } catch {
    // The console is best effort: the journal still has the error.
  }
}
