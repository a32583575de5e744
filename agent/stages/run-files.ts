// The files stages leave each other in /run/flint (the cached config and
// where it came from, the fetch record, the boot's report, the mounts made):
// each written whole under a temporary name, synced, then renamed, so that
// a stage never reads half of one, even after a crash.

import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { randomTempName } from "../root/temp-name";

export async function writeRunFile(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = randomTempName(dirname(path));
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw e;
  }
}
