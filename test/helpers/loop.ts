// Loop-device fixtures for integration tests: an image file of N MiB attached
// with losetup, partition nodes made with partx, and detach in cleanup.
// Use `createLoopDisk` in a `before`/`beforeEach` and `disk.destroy()` in the
// matching `after`/`afterEach` (it is safe to call twice, and after failures).

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs a tool for a test and returns its stdout; throws with its stderr on failure. */
export function sh(cmd: string, args: string[], input?: string | Buffer): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; status?: number };
    throw new Error(`${cmd} ${args.join(" ")} failed (status ${err.status}): ${err.stderr || err.stdout}`);
  }
}

export interface LoopDisk {
  /** The backing image file. */
  image: string;
  /** `/dev/loopN` */
  device: string;
  /** The node of partition `n` (`/dev/loopNpM`). */
  partition(n: number): string;
  /** Re-reads the partition table into the kernel (`partx -u`, then `-a` for new ones). */
  rescan(): void;
  /** Enlarges the image file to `sizeMiB` and tells the loop driver. */
  grow(sizeMiB: number): void;
  /** Removes partition nodes, detaches the loop device and deletes the image. */
  destroy(): void;
}

const live = new Set<LoopDisk>();

export function createLoopDisk(sizeMiB: number, prefix = "flint-loop-"): LoopDisk {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const image = join(dir, "disk.img");
  writeFileSync(image, "");
  truncateSync(image, sizeMiB * 1024 * 1024);
  let device: string;
  try {
    device = sh("losetup", ["-f", "--show", image]).trim();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let destroyed = false;
  const disk: LoopDisk = {
    image,
    device,
    partition: (n) => `${device}p${n}`,
    rescan() {
      // -u updates known partitions but adds none; -a adds new ones and fails for existing ones.
      try {
        sh("partx", ["-u", device]);
      } catch {
        /* no partitions known yet */
      }
      try {
        sh("partx", ["-a", device]);
      } catch {
        /* all already present */
      }
    },
    grow(newSizeMiB) {
      truncateSync(image, newSizeMiB * 1024 * 1024);
      sh("losetup", ["-c", device]);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(disk);
      try {
        if (existsSync(device)) sh("partx", ["-d", device]);
      } catch {
        /* no partitions */
      }
      try {
        sh("losetup", ["-d", device]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  live.add(disk);
  return disk;
}

/** Destroys every loop disk this process created and has not destroyed yet. */
export function destroyAllLoopDisks(): void {
  for (const disk of [...live]) disk.destroy();
}

/** Whether the running kernel has a driver (e.g. "md" → /proc/mdstat, "dm" → device-mapper). */
export function kernelHas(feature: "md" | "dm"): boolean {
  if (feature === "md") return existsSync("/proc/mdstat");
  // Not /dev/mapper/control: libdevmapper creates that node even where the kernel has no driver.
  return /\bdevice-mapper\b/.test(readFileSync("/proc/misc", "utf8"));
}
