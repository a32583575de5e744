// Files named by `local:` (contents, append, units, SSH keys, trees) are read
// from the files directory given with --files-dir, and only from there: a
// path that leaves it (.., an absolute path, a symbolic link out of it) is refused,
// and so is what is not a regular file.

import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { MAX_CONFIG_BYTES } from "../limits";

export class LocalFileError extends Error {}

export const NO_FILES_DIR =
  "local files are read from a files directory, and none was given (flint validate/translate/apply --files-dir DIR); there is none on a first boot, so inline the contents or use a source URL";

/** The absolute path of `local` inside `filesDir`; throws LocalFileError when it would leave it. */
export function localPath(local: string, filesDir: string | undefined): string {
  if (filesDir === undefined) throw new LocalFileError(NO_FILES_DIR);
  const base = resolve(filesDir);
  const full = resolve(join(base, local));
  if (!isWithin(base, full)) throw new LocalFileError(`local path ${JSON.stringify(local)} leaves the files directory`);
  return full;
}

export function isWithin(base: string, full: string): boolean {
  const rel = relative(base, full);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Reads a local file; a symbolic link that resolves outside the files
 * directory is refused too, and so is anything but a regular file (a FIFO
 * would block the read forever) or a file bigger than a config may be.
 */
export function readLocal(local: string, filesDir: string | undefined): Buffer {
  const full = localPath(local, filesDir);
  const cannot = (e: unknown) => new LocalFileError(`cannot read local file ${JSON.stringify(local)}: ${describeFsError(e)}`);
  let real: string;
  try {
    real = realpathSync(full);
  } catch (e) {
    throw cannot(e);
  }
  if (!isWithin(realpathSync(resolve(filesDir!)), real)) throw new LocalFileError(`local path ${JSON.stringify(local)} leads out of the files directory`);
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer.
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    throw cannot(e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new LocalFileError(`local file ${JSON.stringify(local)} is not a regular file`);
    // What it embeds is part of the config: no bigger than one may be.
    if (st.size > MAX_CONFIG_BYTES) throw new LocalFileError(`local file ${JSON.stringify(local)} is ${st.size} bytes; a config may hold at most ${MAX_CONFIG_BYTES} (64 MiB)`);
    return readFileSync(fd);
  } catch (e) {
    throw e instanceof LocalFileError ? e : cannot(e);
  } finally {
    closeSync(fd);
  }
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
}
