// mdadm: creating and inspecting software RAID arrays. The only caller of mdadm.
// mdadm ignores what follows "--", so its operands are checked to be absolute
// paths instead: none can be taken for an option.

import { absolutePaths, DEVICE_TIMEOUT_MS, run } from "./exec";

export interface RaidCreate {
  /** `/dev/md/<name>` */
  path: string;
  level: string;
  devices: string[];
  spares: number;
  options: string[];
}

export async function createArray(raid: RaidCreate): Promise<void> {
  const active = raid.devices.length - raid.spares;
  await run("mdadm", [
    "--create",
    ...absolutePaths("mdadm", [raid.path]),
    "--run",
    // Not tied to this initramfs's hostname, which the installed system will not share.
    "--homehost=any",
    `--level=${raid.level}`,
    `--raid-devices=${active}`,
    ...(raid.spares > 0 ? [`--spare-devices=${raid.spares}`] : []),
    ...raid.options,
    ...absolutePaths("mdadm", raid.devices),
  ], { timeoutMs: DEVICE_TIMEOUT_MS });
}

/** `mdadm --detail --export` of a running array, or undefined when it is not assembled. */
export async function detail(path: string): Promise<Record<string, string> | undefined> {
  const result = await run("mdadm", ["--detail", "--export", ...absolutePaths("mdadm", [path])], { okCodes: [1, 2] });
  if (result.code !== 0) return undefined;
  return Object.fromEntries(result.stdout.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

/** Assembles an existing array from its member devices. */
export async function assemble(path: string, devices: string[]): Promise<void> {
  await run("mdadm", ["--assemble", "--run", ...absolutePaths("mdadm", [path, ...devices])]);
}

export async function stop(path: string): Promise<void> {
  await run("mdadm", ["--stop", ...absolutePaths("mdadm", [path])]);
}
