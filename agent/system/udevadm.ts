// udevadm: waiting for udev to finish handling events, when a udev daemon runs.
// The only caller of udevadm.

import { existsSync } from "node:fs";
import { run } from "./exec";

/**
 * True when a udev daemon answers on its control socket. The socket file alone
 * proves nothing: it stays behind after the daemon exits.
 */
export async function udevRunning(): Promise<boolean> {
  if (!existsSync("/run/udev/control")) return false;
  const result = await run("udevadm", ["control", "--ping", "--timeout=5"], { okCodes: [1] }).catch(() => undefined);
  return result?.code === 0;
}

/**
 * Waits for the udev event queue to empty; without a daemon there is nothing
 * to wait for (`known`: the caller already knows one runs).
 */
export async function settle(timeoutSeconds = 60, { known = false } = {}): Promise<void> {
  if (!known && !(await udevRunning())) return;
  await run("udevadm", ["settle", `--timeout=${timeoutSeconds}`]);
}
