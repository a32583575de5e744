// sync -f (coreutils): syncfs(2) on the filesystem holding a directory,
// which Node does not expose. The directory is handed over as an open
// descriptor (the tool's fd 3), never a path: what is synced is what Flint
// wrote to, whatever the path now leads to. The files stage makes a whole
// batch of new files durable with one call instead of one fsync per file
// (docs/files.md#durability). The only caller of sync.

import { run } from "./exec";

/** Flushes every dirty page and inode of the filesystem that holds the open directory `dirFd` to disk. */
export async function syncFilesystem(dirFd: number): Promise<void> {
  await run("sync", ["-f", "--", "/proc/self/fd/3"], { passFds: [dirFd] });
}
