// udevadm: waiting for udev to finish handling events, when a udev daemon runs.
// The only caller of udevadm.

import { existsSync } from "node:fs";
import { run } from "./exec";

/** True when a udev daemon is listening (its control socket exists). */
export function udevRunning(): boolean {
  return existsSync("/run/udev/control");
}

/** Waits for the udev event queue to empty; without a daemon there is nothing to wait for. */
export async function settle(timeoutSeconds = 60): Promise<void> {
  if (!udevRunning()) return;
  await run("udevadm", ["settle", `--timeout=${timeoutSeconds}`]);
}

/** Asks udev to process change events for a device again (new links after a relabel). */
export async function trigger(device: string): Promise<void> {
  if (!udevRunning()) return;
  await run("udevadm", ["trigger", "--action=change", "--settle", device]).catch(() => run("udevadm", ["trigger", "--action=change", device]));
}
