// Runs an external tool with an argument array (never a shell) and turns a
// non-zero exit into a FlintError naming the command and its stderr.
// Every run has a time limit that names the tool when it fires, and every
// message taken from a tool is scrubbed of the run's secret values before
// it can reach a log or the report. Only modules under system/ may import this.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { FlintError } from "../errors";
import { log } from "../log";
import { currentScope } from "../scope";
import { redact } from "../secrets";

/** Quick tools (useradd, blkid, sgdisk…) finish in seconds; two minutes means one hangs (a FIFO in the root, a stuck device). */
const DEFAULT_TIMEOUT_MS = 2 * 60_000;

/** The quick tools' limit: `FLINT_TOOL_TIMEOUT` (seconds) when set, else the default. */
function toolTimeoutMs(): number {
  const raw = process.env.FLINT_TOOL_TIMEOUT;
  if (raw === undefined || raw === "") return DEFAULT_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new FlintError(`must be a positive number of seconds (got ${JSON.stringify(raw)})`, "FLINT_TOOL_TIMEOUT");
  return seconds * 1000;
}
/** Tools whose time grows with the device (mkfs discarding a large disk, wipefs, RAID creation, LUKS formatting). */
export const DEVICE_TIMEOUT_MS = 30 * 60_000;

export interface RunOptions {
  /** Bytes written to the tool's stdin (e.g. a key); never logged. */
  input?: string | Buffer;
  /** Exit codes other than 0 that still count as success. */
  okCodes?: number[];
  env?: NodeJS.ProcessEnv;
  /** Arguments that must not reach the log (positions in `args`). */
  secretArgs?: number[];
  /** Kill the tool and fail after this long (default toolTimeoutMs()). */
  timeoutMs?: number;
  /** Open descriptors handed to the tool as its fd 3, 4…, for tools that must act on an object, not a path. */
  passFds?: number[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function printable(cmd: string, args: string[], secretArgs: number[] = []): string {
  return [cmd, ...args.map((a, i) => (secretArgs.includes(i) ? "<redacted>" : a))].join(" ");
}

function timeLimit(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const shown = printable(cmd, args, options.secretArgs);
  const secrets = (options.secretArgs ?? []).map((i) => args[i]!).filter((a) => a !== undefined);
  if (typeof options.input === "string") secrets.push(options.input);
  const scrub = (text: string): string => redact(text, secrets);
  const timeoutMs = options.timeoutMs ?? toolTimeoutMs();
  log.debug(`running ${shown}`);
  // No program can receive a NUL inside an argument; say so instead of Node's TypeError.
  const nul = args.findIndex((a) => a.includes("\0"));
  if (nul !== -1) return Promise.reject(new FlintError(`${cmd}: argument ${nul + 1} contains a NUL character, which no program can take`, shown));
  // A cancelled run (the boot agent's client went away) starts no tool, and kills the one it runs.
  const signal = currentScope().signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // stdin, stdout and stderr are pipes whatever follows them, so the streams are there.
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe", ...(options.passFds ?? [])] }) as ChildProcessWithoutNullStreams;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", cancel);
      fn();
    };
    const cancel = (): void => {
      child.kill("SIGKILL");
      settle(() => reject(signal!.reason));
    };
    signal?.addEventListener("abort", cancel, { once: true });
    // Fail at once, without waiting for the tool to go: one stuck in the kernel may never exit.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle(() => reject(new FlintError(`${cmd} did not finish within ${timeLimit(timeoutMs)}; it was killed`, shown)));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (e: NodeJS.ErrnoException) => {
      settle(() => reject(new FlintError(e.code === "ENOENT" ? `${cmd} is not installed (not found in PATH)` : `cannot run ${cmd}: ${scrub(e.message)}`, shown)));
    });
    child.on("close", (code, signal) => {
      // How long each tool took: under emulation, spawns are where a stage's time goes.
      log.debug(`${cmd} ended (${signal ?? code}) after ${(performance.now() - started).toFixed(0)} ms`);
      // stderr is for messages, which callers may quote; stdout is data they parse.
      const result = { code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: scrub(Buffer.concat(err).toString("utf8")) };
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) return settle(() => resolve(result));
      const why = signal ? `killed by ${signal}` : `exit status ${code}`;
      const detail = result.stderr.trim() || scrub(result.stdout.trim());
      settle(() => reject(new FlintError(`${cmd} failed (${why})${detail ? `: ${detail}` : ""}`, shown)));
    });
    child.stdin.on("error", () => undefined); // a tool that exits without reading stdin is not our failure
    child.stdin.end(options.input ?? "");
  });
}

/**
 * For tools that take no `--` (mdadm stops reading its arguments there):
 * operands must be absolute paths, so none can be read as an option.
 */
export function absolutePaths(cmd: string, operands: string[]): string[] {
  for (const operand of operands) {
    if (!operand.startsWith("/")) throw new FlintError(`${cmd} operand must be an absolute path (got ${JSON.stringify(operand)})`, cmd);
  }
  return operands;
}
