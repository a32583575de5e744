// Runs an external tool with an argument array (never a shell) and turns a
// non-zero exit into a FlintError naming the command and its stderr.
// Only modules under system/ may import this.

import { spawn } from "node:child_process";
import { FlintError } from "../errors";
import { log } from "../log";

export interface RunOptions {
  /** Bytes written to the tool's stdin (e.g. a key); never logged. */
  input?: string | Buffer;
  /** Exit codes other than 0 that still count as success. */
  okCodes?: number[];
  env?: NodeJS.ProcessEnv;
  /** Arguments that must not reach the log (positions in `args`). */
  secretArgs?: number[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function printable(cmd: string, args: string[], secretArgs: number[] = []): string {
  return [cmd, ...args.map((a, i) => (secretArgs.includes(i) ? "<redacted>" : a))].join(" ");
}

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const shown = printable(cmd, args, options.secretArgs);
  log.debug(`running ${shown}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (e: NodeJS.ErrnoException) => {
      reject(new FlintError(e.code === "ENOENT" ? `${cmd} is not installed (not found in PATH)` : `cannot run ${cmd}: ${e.message}`, shown));
    });
    child.on("close", (code, signal) => {
      const result = { code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) return resolve(result);
      const why = signal ? `killed by ${signal}` : `exit status ${code}`;
      const detail = result.stderr.trim() || result.stdout.trim();
      reject(new FlintError(`${cmd} failed (${why})${detail ? `: ${detail}` : ""}`, shown));
    });
    child.stdin.on("error", () => undefined); // a tool that exits without reading stdin is not our failure
    child.stdin.end(options.input ?? "");
  });
}
