// udevadm: waiting for udev to finish handling events, when a udev daemon runs.
// The only caller of udevadm.

import { udevRunning } from "../devices/udev";
import { run } from "./exec";

/** Waits for the udev event queue to empty; without a daemon there is nothing to wait for. */
export async function settle(timeoutSeconds = 60): Promise<void> {
  if (!(await udevRunning())) return;
  await run("udevadm", ["settle", `--timeout=${timeoutSeconds}`]);
}
