// mount and umount, and the kernel's view of what is mounted where.

import { readFile } from "node:fs/promises";
import { run } from "./exec";

/** `format` undefined lets mount(8) probe the filesystem type. */
export async function mount(device: string, target: string, format: string | undefined, options: string[] = []): Promise<void> {
  const args = format ? ["-t", format] : [];
  if (options.length) args.push("-o", options.join(","));
  args.push("--", device, target);
  await run("mount", args);
}

export async function umount(target: string): Promise<void> {
  await run("umount", ["--", target]);
}

/** Mount points from /proc/self/mountinfo (octal escapes decoded). */
export async function mountPoints(): Promise<Set<string>> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const points = new Set<string>();
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (field) points.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return points;
}
