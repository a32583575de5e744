// What one command line owns while it runs: where its log lines go and at
// which level, the secret values scrubbed from them, the signal that cancels
// it, and (in the boot agent) the session it shares with the other stages of
// the boot. `flint COMMAND` runs one command per process, in the process's
// scope; the boot agent makes a scope per request and hands it to runFlint,
// so two requests never share a log sink, secrets or a signal.
//
// Code deep inside a stage (a tool run, a log line, a fetch) finds its
// request's scope through AsyncLocalStorage instead of an argument threaded
// down every call: the scope is created and passed explicitly at the top
// (agent → runFlint), and cannot leak into another request's promises.

import { AsyncLocalStorage } from "node:async_hooks";
import type { Config } from "./config/types";
import type { LogSettings } from "./log";
import type { SecretStore } from "./secrets";

/** What the stages of one boot share in the agent: the config fetch validated, so no later stage parses it again. */
export interface AgentSession {
  /** The cached config fetch wrote, and the file's identity when it was written. */
  config?: { path: string; stamp: string; config: Config };
}

export interface Scope {
  log: LogSettings;
  /** Made on first use (secrets.ts). */
  secrets?: SecretStore;
  /** Aborted when the request is cancelled (its client went away, the agent was stopped). */
  signal?: AbortSignal;
  session?: AgentSession;
}

const storage = new AsyncLocalStorage<Scope>();

/** The process's own scope: the CLI's, and the agent's outside its requests. */
const processScope: Scope = {
  log: { level: "info", format: "text", write: (line) => defaultWrite(line) },
};

let defaultWrite: (line: string) => void = () => undefined;

/** log.ts gives the process scope its writer (stderr) without an import cycle. */
export function setProcessLogWriter(write: (line: string) => void): void {
  defaultWrite = write;
}

export function currentScope(): Scope {
  return storage.getStore() ?? processScope;
}

/** Runs `fn` with `scope` as the current scope of everything it calls and awaits. */
export function inScope<T>(scope: Scope, fn: () => Promise<T>): Promise<T> {
  return storage.run(scope, fn);
}

/** The file identity the session compares: the same path, inode, size and mtime as when it was remembered. */
export function fileStamp(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}
