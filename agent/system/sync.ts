// sync -f (coreutils): syncfs(2) on the filesystem holding a path, which
// Node does not expose. The files stage makes a whole batch of temporary
// files durable with one call instead of one fsync per file. The only
// caller of sync.

import { run } from "./exec";

/** Flushes every dirty page and inode of the filesystem that holds `path` to disk. */
export async function syncFilesystem(path: string): Promise<void> {
  await run("sync", ["-f", "--", path]);
}
