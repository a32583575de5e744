// `flint agent [--dir DIR]`: the one Node process of a first boot. Started
// once, early in the initramfs (flint-agent.service), it runs the command
// line of each stage unit in this process, so the boot pays Node's start-up
// once, and the config fetch validated is handed to the later stages in
// memory instead of being parsed again.
//
// The stage units stay what orders the boot (against sysroot.mount, the
// network, switch-root); each one's ExecStart is flint-client, a shell
// script. The protocol (docs/boot.md, "The agent's protocol"), with DIR
// /run/flint/agent and ID the client's pid:
//   - the client makes two FIFOs of its own, DIR/ID.in and DIR/ID.out, writes
//     its request into ID.in (the number of arguments, then one per line)
//     and keeps ID.in open for as long as it lives: its end is how the agent
//     learns that the client went away, and cancels the stage;
//   - it writes `ID\n` into DIR/requests (made by the agent unit: Node cannot
//     make a FIFO), the one thing clients share: one short write each;
//   - the agent answers on ID.out with the stage's log lines, which the client
//     copies to the journal unread, writes the status into the regular file
//     DIR/ID.status (`CODE\nREASON\n`), and only then closes ID.out. The
//     client takes its exit status from that file alone, so no log line, no
//     config text and no tool's output can change it; a reply that ends
//     without one means the agent died.
// Every request is answered, a refused one too (exit 2 and the reason); one
// stage runs at a time, in the order they were asked for.

import { closeSync, constants, fstatSync, lstatSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { posix } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseCommandArgs } from "../cli";
import { consoleTarget } from "../console/failure-summary";
import { runFlint } from "../dispatch";
import { EXIT_USAGE, FlintError } from "../errors";
import { log, type LogLevel } from "../log";
import type { AgentSession, Scope } from "../scope";

export const AGENT_DIR = "/run/flint/agent";

/**
 * The one command a client may not run in the agent: another agent. Any
 * other is run (an unknown one fails with a usage error, exit 2): which
 * stages a boot runs is the units' to say (flint-complete.target and the
 * generator), so the agent keeps no list of its own to disagree with them.
 */
const REFUSED_COMMAND = "agent";

/** A request's id: the client's pid, so a name no other live client has. */
const REQUEST_ID = /^[1-9][0-9]{0,9}$/;
/** The client writes its request before it asks: all of it is in the FIFO by then, or the client is not ours. */
const REQUEST_READ_MS = 5_000;
const MAX_REQUEST_BYTES = 16 * 1024;

interface Request {
  id: string;
  stage: string;
  args: string[];
  controller: AbortController;
  /** The client's end of ID.in: its close means the client is gone. */
  client: Socket;
  /** ID.out, once the client has it open. */
  out?: Socket;
  /** Writes the log lines not yet written to ID.out. */
  flush: () => void;
  status: string;
  gone: boolean;
  answered: boolean;
}

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, { dir: { type: "string" } });
  // Resolved once: `D/` and `D` are one directory, and every path below is built from it.
  const dir = posix.resolve(values.dir ?? AGENT_DIR);
  const requests = posix.join(dir, "requests");
  if (!lstatSync(requests, { throwIfNoEntry: false })?.isFIFO()) throw new FlintError("not a FIFO: make it with mkfifo before starting the agent", requests);
  return new Agent(dir).serve(requests);
}

class Agent {
  private readonly queue: Request[] = [];
  private running: Request | undefined;
  private stopping = false;
  private stopCode = 0;
  private readonly session: AgentSession = {};
  /** Every request whose client is still there. */
  private readonly live = new Set<Request>();
  private resolve!: (code: number) => void;

  constructor(private readonly dir: string) {}

  serve(requests: string): Promise<number> {
    // Read and write: the FIFO never reports end-of-file between clients.
    const input = new Socket({ fd: openSync(requests, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    let buffered = "";
    input.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const id = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.accept(id);
      }
      if (buffered.length > 64) buffered = ""; // not a request id: nobody to answer
    });
    const stop = (signal: string) => {
      log.info(`agent: ${signal}: stopping`);
      input.destroy();
      this.stop(signal);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    log.info("agent ready", { requests });
    return new Promise((resolve) => (this.resolve = resolve));
  }

  private finished(code: number): void {
    // Let go of the clients still there, but not of their answers: they may not have read them yet.
    for (const request of this.live) {
      request.gone = true; // so that its end below does not count as the client's
      request.client.destroy();
      request.out?.destroy();
    }
    this.resolve(code);
  }

  /** Takes one client's request: reads it from ID.in, then queues it, or answers at once if it is refused. */
  private accept(id: string): void {
    if (!REQUEST_ID.test(id)) {
      log.warn(`agent: ignored a request without an id (${JSON.stringify(id.slice(0, 40))})`);
      return;
    }
    const base = posix.join(this.dir, id);
    let client: Socket;
    try {
      client = new Socket({ fd: openFifo(`${base}.in`, constants.O_RDONLY), readable: true, writable: false });
    } catch (e) {
      log.warn(`agent: ignored request ${id}: ${(e as Error).message}`);
      return;
    }
    const request: Request = { id, stage: "?", args: [], controller: new AbortController(), client, status: `${base}.status`, gone: false, answered: false, flush: () => undefined };
    this.live.add(request);
    let text = "";
    let read = false;
    const timer = setTimeout(() => {
      if (read) return;
      log.warn(`agent: ignored request ${id}: incomplete after ${REQUEST_READ_MS} ms`);
      this.forget(request);
    }, REQUEST_READ_MS);
    client.on("data", (chunk: Buffer) => {
      if (read) return;
      text += chunk.toString("utf8");
      const args = parseRequest(text);
      if (args === undefined && text.length <= MAX_REQUEST_BYTES) return;
      read = true;
      clearTimeout(timer);
      void openReply(`${base}.out`, request).then(() => {
        if (request.gone) return;
        if (!args) return this.refuse(request, "the request is not a list of arguments");
        request.args = args;
        request.stage = stageOf(args);
        if (request.stage === REFUSED_COMMAND) return this.refuse(request, "the agent does not start another agent");
        if (this.stopping) return this.refuse(request, `the Flint agent was stopped before it ran stage ${request.stage}`, 1);
        this.queue.push(request);
        void this.next();
      }, (e: Error) => {
        log.warn(`agent: ignored request ${id}: ${e.message}`);
        this.forget(request);
      });
    });
    const gone = () => {
      if (request.gone) return;
      request.gone = true;
      clearTimeout(timer);
      if (request.answered || !read) return this.forget(request);
      request.controller.abort(new FlintError("cancelled: its client went away (the unit was stopped or killed)", `stage ${request.stage}`));
      const queued = this.queue.indexOf(request);
      if (queued >= 0) {
        this.queue.splice(queued, 1);
        this.forget(request);
      }
    };
    client.on("end", gone);
    client.on("close", gone);
    client.on("error", gone);
  }

  /** Runs the queued stages one at a time. */
  private async next(): Promise<void> {
    if (this.running) return;
    const request = this.queue.shift();
    if (!request) {
      if (this.stopping) this.finished(this.stopCode);
      return;
    }
    this.running = request;
    const started = process.hrtime.bigint();
    const elapsed = () => `${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`;
    log.info(`stage ${request.stage}: started`, { request: request.id });
    let code: number;
    try {
      code = await runFlint(request.args, this.scopeFor(request));
    } catch (e) {
      code = 1;
      request.flush();
      request.out?.write(`flint[error]: ${(e as Error).message}\n`);
    }
    this.running = undefined;
    if (request.gone) {
      log.warn(`stage ${request.stage}: cancelled after ${elapsed()}: its client went away`, { request: request.id });
      this.forget(request);
    } else if (this.stopping) {
      log.info(`stage ${request.stage}: exit ${code} after ${elapsed()}, the agent stopping`, { request: request.id });
      this.answer(request, code === 0 ? 0 : 1, code === 0 ? "" : `the Flint agent was stopped during stage ${request.stage}`);
    } else {
      // Logged before the client hears the status, so the agent's journal has it by the time the unit ends.
      log.info(`stage ${request.stage}: exit ${code} after ${elapsed()}`, { request: request.id, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) });
      this.answer(request, code, "");
    }
    void this.next();
  }

  /**
   * A request's own scope: its lines go to its client (the journal), and
   * warnings, errors and everything at debug also to the console; its signal
   * is its cancellation; the session is the boot's.
   */
  private scopeFor(request: Request): Scope {
    const target = consoleTarget();
    // Lines gathered and written once per turn of the event loop (or per
    // 64 KiB): the files stage logs a line per entry.
    let pending = "";
    let shown = "";
    let scheduled = false;
    request.flush = () => {
      scheduled = false;
      if (pending) request.out?.write(pending);
      if (shown && target) toConsole(target, shown);
      pending = shown = "";
    };
    const scope: Scope = {
      log: {
        level: "info",
        format: "text",
        write: (line: string, level?: LogLevel) => {
          pending += line + "\n";
          if (pending.length >= 64 * 1024) request.flush();
          else if (!scheduled) {
            scheduled = true;
            setImmediate(request.flush);
          }
          if (target && (level !== "info" && level !== "debug" || scope.log.level === "debug")) shown += line + "\n";
        },
      },
      signal: request.controller.signal,
      session: this.session,
    };
    return scope;
  }

  /** Answers a request without running it: exit 2 (1 when the agent is stopping) and the reason. */
  private refuse(request: Request, reason: string, code = EXIT_USAGE): void {
    log.warn(`agent: refused request ${request.id}: ${reason}`);
    this.answer(request, code, `refused: ${reason}`);
  }

  /** The status file first, then the end of the reply: the client reads the status once the reply has ended. */
  private answer(request: Request, code: number, reason: string): void {
    request.answered = true;
    request.flush();
    try {
      writeFileSync(`${request.status}.new`, `${code}\n${reason.replace(/[\0-\x1f\x7f]/g, " ")}\n`, { mode: 0o600 });
      renameSync(`${request.status}.new`, request.status);
    } catch (e) {
      log.error(`agent: cannot answer request ${request.id}: ${(e as Error).message}`);
    }
    // Closed once what is queued for it is written (a slow client still gets every line).
    request.out?.end();
    // The FIFOs and the status go when the client does (it may not have opened its reply yet).
    if (request.gone) this.forget(request);
  }

  /** The request is over and its client gone: nothing of it stays. */
  private forget(request: Request): void {
    this.live.delete(request);
    request.client.destroy();
    request.out?.destroy();
    for (const suffix of [".in", ".out", ".status"]) unlinkQuietly(posix.join(this.dir, request.id + suffix));
  }

  /**
   * SIGTERM or SIGINT: what is queued is refused, the running stage is
   * cancelled and its client told so, and the agent exits 1 when it stopped
   * a stage (a failure systemd acts on), 0 when it was idle.
   */
  private stop(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.running || this.queue.length > 0) this.stopCode = 1;
    for (const request of this.queue.splice(0)) this.refuse(request, `the Flint agent was stopped (${signal}) before it ran stage ${request.stage}`, 1);
    if (this.running) this.running.controller.abort(new FlintError(`cancelled: the Flint agent was stopped (${signal})`, `stage ${this.running.stage}`));
    else this.finished(this.stopCode);
  }
}

/** Opens a FIFO of the agent's directory without following a link or waiting for the other end. */
function openFifo(path: string, mode: number): number {
  const fd = openSync(path, mode | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isFIFO()) throw new Error(`${path} is not a FIFO`);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/**
 * Opens the client's ID.out for writing once the client has it open for
 * reading (it does so right after asking), so that closing it is the end of
 * the reply the client reads, however short. Gives up when the client goes.
 */
async function openReply(path: string, request: Request): Promise<void> {
  for (let waited = 0; ; waited++) {
    try {
      request.out = new Socket({ fd: openFifo(path, constants.O_WRONLY), readable: false, writable: true });
      // A client that goes away mid-stage must not take the agent with it.
      request.out.on("error", () => undefined);
      return;
    } catch (e) {
      // ENXIO: no reader yet.
      if ((e as NodeJS.ErrnoException).code !== "ENXIO") throw e;
      if (request.gone) return;
      await sleep(waited < 50 ? 2 : 20);
    }
  }
}

/** `COUNT\nARG\n…`: the arguments once all have come, undefined before. */
function parseRequest(text: string): string[] | undefined | null {
  const lines = text.split("\n");
  if (lines.length < 2) return undefined;
  if (!/^[1-9][0-9]{0,2}$/.test(lines[0]!)) return null;
  const count = Number(lines[0]);
  if (lines.length < count + 2) return undefined;
  if (lines.length > count + 2 || lines[count + 1] !== "") return null;
  return lines.slice(1, count + 1);
}

/** The stage: the first argument that is neither an option nor the value of --log-level/--log-format. */
function stageOf(args: string[]): string {
  return args.find((a, i) => !a.startsWith("-") && !/^--log-(level|format)$/.test(args[i - 1] ?? "")) ?? "?";
}

function toConsole(target: string, text: string): void {
  try {
    writeFileSync(target, text, { flag: "a" });
  } catch {
    // The console is best effort: the journal has the line.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
