// Ignition's retry policy for network fetches: wait 100 ms after the first
// failed try, doubling up to 5 s, and try again until success, a final
// failure, or the total time limit (`ignition.timeouts.httpTotal`).

import { FlintError } from "../errors";
import { log } from "../log";

export const FIRST_DELAY_MS = 100;
export const MAX_DELAY_MS = 5000;

/** A failure worth another try: no connection, no headers in time, a 5xx. */
export class RetryableError extends Error {
  override name = "RetryableError";
}

export interface RetryInfo {
  /** The try that failed, from 1. */
  attempt: number;
  /** How long the fetch waits before the next try. */
  delayMs: number;
  reason: string;
}

export interface RetryOptions {
  /** Total time limit in ms; 0 or absent = none. */
  totalMs?: number;
  /** Replaceable wait (tests record and shorten it); real waiting by default. */
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: RetryInfo) => void;
  /** Stops the tries (and the wait between them) when aborted: another source won a race. */
  signal?: AbortSignal;
  label: string;
}

export function backoffDelay(attempt: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
}

/** Runs `attempt` until it succeeds or throws something not retryable. */
export async function withRetries<T>(attempt: (signal: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = options.totalMs ? Date.now() + options.totalMs : Infinity;
  const outer = options.signal;
  const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, outer));
  let lastReason: string | undefined;
  for (let n = 1; ; n++) {
    if (outer?.aborted) throw abortedBy(outer, options.label);
    const controller = new AbortController();
    const abort = () => controller.abort();
    outer?.addEventListener("abort", abort, { once: true });
    const remaining = deadline - Date.now();
    const timer = Number.isFinite(remaining) ? setTimeout(() => controller.abort(), Math.max(0, remaining)) : undefined;
    try {
      return await attempt(controller.signal);
    } catch (e) {
      if (outer?.aborted) throw abortedBy(outer, options.label);
      if (controller.signal.aborted || Date.now() >= deadline) {
        throw new FlintError(`gave up after ${n} tries: the total time limit of ${options.totalMs} ms passed (last error: ${lastReason ?? (e as Error).message})`, options.label);
      }
      if (!(e instanceof RetryableError)) throw e;
      lastReason = e.message;
      const delayMs = Math.min(backoffDelay(n), Math.max(0, deadline - Date.now()));
      log.warn(`fetch try ${n} failed: ${e.message}; retrying in ${delayMs} ms`, { source: options.label });
      options.onRetry?.({ attempt: n, delayMs, reason: e.message });
      await sleep(delayMs);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", abort);
    }
  }
}

/** Why the caller stopped the fetch: its reason (a cancelled boot stage says so), or that it is no longer needed. */
function abortedBy(signal: AbortSignal, label: string | undefined): FlintError {
  const reason = signal.reason instanceof Error && signal.reason.name !== "AbortError" ? signal.reason.message : "no longer needed";
  return new FlintError(`aborted: ${reason}`, label);
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
