// `flint fetch` on a lab cloud (test/lab/netns.ts) whose storage service
// holds some objects: the machine's local view is empty (no sysfs, lib dir,
// OEM files or kernel arguments), the lab's CA is trusted, and the cached
// config's file paths are read back.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBundle } from "../../helpers/bundle";
import { startLab, type Lab, type LabOptions } from "../../lab/netns";

export interface LabFetch {
  lab: Lab;
  status: number | null;
  stderr: string;
  /** The paths of storage.files in the fetched config. */
  files(): string[];
}

export async function fetchInLab(options: LabOptions & { platform: string }): Promise<LabFetch> {
  const lab = await startLab(options);
  try {
    for (const d of ["sys", "lib", "oem", "run"]) mkdirSync(join(lab.dir, d), { recursive: true });
    writeFileSync(join(lab.dir, "cmdline"), "");
    const env = { FLINT_SYSFS_ROOT: join(lab.dir, "sys"), FLINT_LIB_DIR: join(lab.dir, "lib"), FLINT_OEM_DIR: join(lab.dir, "oem"), NODE_EXTRA_CA_CERTS: lab.caFile };
    const result = await lab.flint(["fetch", "--platform", options.platform, "--cmdline-file", join(lab.dir, "cmdline"), "--cache", join(lab.dir, "run/config.json"), "--log-level", "debug"], env);
    const files = (): string[] => JSON.parse(readFileSync(join(lab.dir, "run/config.json"), "utf8")).storage.files.map((f: { path: string }) => f.path);
    return { lab, status: result.status, stderr: result.stderr, files };
  } catch (e) {
    await lab.close();
    throw e;
  }
}

/** A user config that merges the config at `source`. */
export const merging = (source: string) => JSON.stringify({ ignition: { version: "3.4.0", config: { merge: [{ source }] } } });

/** A config that writes one file at `path`. */
export const writing = (path: string) => JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path, contents: { source: "data:,x" } }] } });

/**
 * For a describe block: builds the bundle once, fetches on `platform` in a
 * fresh lab per call, and closes the latest lab after each test.
 */
export function labOn(platform: string) {
  let current: Lab | undefined;
  before(buildBundle);
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    async fetch(options: Omit<LabOptions, "platform">): Promise<LabFetch> {
      await current?.close();
      const result = await fetchInLab({ platform, ...options });
      current = result.lab;
      return result;
    },
    get lab(): Lab {
      if (!current) throw new Error("no lab yet: fetch first");
      return current;
    },
    /** The requests the lab's services saw at `address`. */
    requestsTo(address: string): string[] {
      return (current?.requests ?? []).filter((r) => r.startsWith(`${address} `));
    },
  };
}
