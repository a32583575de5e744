// `flint agent [--dir DIR]`: the one Node process of a first boot. Started
// once, early in the initramfs (flint-agent.service), it runs the command
// line of each stage unit in this process, so the boot pays Node's start-up
// once instead of once per stage, and the config is parsed once.
//
// The stage units stay what orders the boot (against sysroot.mount, the
// network, switch-root); each one's ExecStart is flint-client, a few lines
// of shell, which talks to the agent over FIFOs in DIR (/run/flint/agent):
//   - `requests`, made by the unit before the agent starts (Node cannot make
//     a FIFO), read here: one line per stage, `REPLY<TAB>ARG<TAB>ARG…`;
//   - REPLY, a FIFO in DIR (the unit makes one per stage): the stage's log
//     lines, then `@flint-agent exit N`, which the client turns into its exit
//     status (no log line starts with `@`).
// A client whose agent dies sees the reply end without a status and fails;
// the agent's own unit fails too and isolates emergency.target.

import { constants, lstatSync, openSync } from "node:fs";
import { Socket } from "node:net";
import { posix } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseCommandArgs } from "../cli";
import { runFlint } from "../dispatch";
import { FlintError } from "../errors";
import { configureLog, currentLogSettings, log } from "../log";

export const AGENT_DIR = "/run/flint/agent";
/** Starts the status line of a reply; no log line starts with it. */
export const STATUS_MARK = "@flint-agent exit ";
/** How long a client may take to open its reply FIFO after sending its request. */
const REPLY_OPEN_TIMEOUT_MS = 30_000;

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, { dir: { type: "string" } });
  const dir = values.dir ?? AGENT_DIR;
  const requests = posix.join(dir, "requests");
  if (!lstatSync(requests, { throwIfNoEntry: false })?.isFIFO()) throw new FlintError("not a FIFO: make it with mkfifo before starting the agent", requests);
  // Read and write: the FIFO never reports end-of-file between clients.
  const input = new Socket({ fd: openSync(requests, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
  log.info("agent ready", { requests });
  let buffered = "";
  let queue = Promise.resolve();
  await new Promise<void>((resolve, reject) => {
    input.on("error", reject);
    input.on("end", resolve);
    input.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        // One stage at a time, in the order they asked.
        queue = queue.then(() => serve(dir, line)).catch((e: unknown) => log.error(`agent: ${(e as Error).message}`));
      }
    });
  });
  return 0;
}

/** Runs one client's command line with its log going to the client's reply FIFO. */
async function serve(dir: string, line: string): Promise<void> {
  const [reply, ...args] = line.split("\t");
  if (!reply || posix.dirname(reply) !== dir || !lstatSync(reply, { throwIfNoEntry: false })?.isFIFO()) {
    log.warn(`ignored a request without a reply FIFO in ${dir}`);
    return;
  }
  // The stage: the first argument that is neither an option nor the value of --log-level/--log-format.
  const name = args.find((a, i) => !a.startsWith("-") && !/^--log-(level|format)$/.test(args[i - 1] ?? "")) ?? "?";
  if (name === "agent") {
    log.warn("ignored a request to start another agent");
    return;
  }
  const out = await openReply(reply);
  if (!out) {
    log.warn(`the client of ${name} never opened its reply FIFO`, { reply });
    return;
  }
  log.info(`stage ${name}: started`);
  const started = process.hrtime.bigint();
  const saved = currentLogSettings();
  // Each stage starts from the defaults; its own --log-level applies to it alone.
  configureLog({ level: "info", format: "text", write: (text) => out.write(text + "\n") });
  let code: number;
  try {
    code = await runFlint(args);
  } catch (e) {
    code = 1;
    out.write(`flint[error]: ${(e as Error).message}\n`);
  } finally {
    configureLog(saved);
  }
  // Logged before the client hears the status, so the agent's journal has it by the time the unit ends.
  log.info(`stage ${name}: exit ${code} after ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
  await new Promise<void>((resolve) => {
    if (out.destroyed) return resolve(); // the client went away: nothing left to tell it
    out.once("error", () => resolve());
    out.end(`${STATUS_MARK}${code}\n`, () => resolve());
  });
  out.destroy();
}

/** Opens the client's reply FIFO for writing once the client has it open for reading. */
async function openReply(reply: string): Promise<Socket | undefined> {
  const deadline = Date.now() + REPLY_OPEN_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(reply, constants.O_WRONLY | constants.O_NONBLOCK);
      const socket = new Socket({ fd, readable: false, writable: true });
      // A client that goes away mid-stage (its unit stopped) must not take the agent with it.
      socket.on("error", (e: Error) => log.warn(`the client of ${reply} went away: ${e.message}`));
      return socket;
    } catch (e) {
      // ENXIO: no reader yet.
      if ((e as NodeJS.ErrnoException).code !== "ENXIO" || Date.now() > deadline) return undefined;
      await sleep(5);
    }
  }
}
