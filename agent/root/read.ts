// Reading what the root holds (its passwd and group files, the report, a
// file Flint appends to or compares with). The root may be hostile: a FIFO
// or a device where a file should be would block Flint or read forever. So
// every read opens non-blocking, without following a last symlink the
// kernel's way (symlinks are followed as if chrooted, by the resolver), and
// refuses anything that is not a regular file, with a message naming it.

import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { FlintError } from "../errors";
import { chase, type RootDir } from "./resolve";

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function kindOf(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFIFO:
      return "a FIFO";
    case constants.S_IFSOCK:
      return "a socket";
    case constants.S_IFCHR:
      return "a character device";
    case constants.S_IFBLK:
      return "a block device";
    case constants.S_IFDIR:
      return "a directory";
    case constants.S_IFLNK:
      return "a symlink";
    default:
      return "not a regular file";
  }
}

/** Opens `name` in `dir` for reading if it is a regular file; anything else is refused (never waited on). */
export function openReadable(dir: RootDir, name: string): number {
  const fd = openIfReadable(dir, name);
  if (fd === undefined) throw new FlintError("cannot read: ENOENT", dir.inRoot(name));
  return fd;
}

/** openReadable, or undefined when there is nothing at `name`. */
function openIfReadable(dir: RootDir, name: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(dir.at(name), READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new FlintError("is a symlink where a regular file was expected", dir.inRoot(name));
    throw new FlintError(`cannot read: ${code ?? (e as Error).message}`, dir.inRoot(name));
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new FlintError(`is ${kindOf(st.mode)}, not a regular file; refusing to read it`, dir.inRoot(name));
  }
  return fd;
}

/** The whole regular file `name` in `dir`, at most `max` bytes (more is an error). */
export function readAllOf(dir: RootDir, name: string, max: number): Buffer {
  const fd = openReadable(dir, name);
  try {
    return readFd(fd, max, dir.inRoot(name));
  } finally {
    closeSync(fd);
  }
}

function readFd(fd: number, max: number, label: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  // The first read asks for the file's size and a byte more (to see it end): a small file
  // costs a buffer of its size, not a 1 MiB one allocated and freed per file, which leaves
  // glibc's malloc keeping freed memory from then on.
  let size = fstatSync(fd).size + 1;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(size, max + 1 - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > max) throw new FlintError(`is larger than the ${max}-byte limit for this file`, label);
    size = 64 * 1024;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** What Flint reads from the root at most, per file, unless the caller says otherwise. */
const ROOT_FILE_CAP = 64 * 1024 * 1024;

/**
 * Opens the regular file at `path` inside the root for reading, following
 * symlinks as if chrooted; undefined when there is nothing there. A FIFO,
 * socket, device or directory is an error naming it. The caller closes `fd`;
 * `where` is the file's path inside the root, symlinks resolved.
 */
export function openRootFile(root: string, path: string): { fd: number; where: string } | undefined {
  const found = chase(root, path, "follow");
  if (!found.dir) return undefined;
  try {
    const name = found.name;
    if (name === undefined) throw new FlintError("is a directory, not a regular file; refusing to read it", found.dir.rootPath);
    const fd = openIfReadable(found.dir, name);
    return fd === undefined ? undefined : { fd, where: found.dir.inRoot(name) };
  } finally {
    found.dir.close();
  }
}

/** The regular file at `path` inside the root (see openRootFile), at most `max` bytes; undefined when there is nothing there. */
export function readRootFile(root: string, path: string, max = ROOT_FILE_CAP, options: { probe?: boolean } = {}): Buffer | undefined {
  const opened = openRootFile(root, path);
  if (!opened) return undefined;
  try {
    return options.probe ? Buffer.alloc(0) : readFd(opened.fd, max, opened.where);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Checks that each of `paths` in the root is a regular file or absent, for
 * files an external tool will read there (useradd --root reads login.defs):
 * a FIFO would hang the tool, so it is refused before the tool runs.
 */
export function checkRegularFiles(root: string, paths: string[]): void {
  for (const path of paths) readRootFile(root, path, Number.MAX_SAFE_INTEGER, { probe: true });
}

/** readRootFile as text; "" when there is nothing there. */
export function readRootText(root: string, path: string, max = ROOT_FILE_CAP): string {
  return readRootFile(root, path, max)?.toString("utf8") ?? "";
}
