// Files named by `local:` (contents, append, units, SSH keys, trees) are read
// from the files directory given with --files-dir, and only from there: a
// path that leaves it (.., an absolute path, a symbolic link out of it) is refused.

import { readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";

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

function isWithin(base: string, full: string): boolean {
  const rel = relative(base, full);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Reads a local file; a symbolic link that resolves outside the files directory is refused too. */
export function readLocal(local: string, filesDir: string | undefined): Buffer {
  const full = localPath(local, filesDir);
  let real: string;
  try {
    real = realpathSync(full);
  } catch (e) {
    throw new LocalFileError(`cannot read local file ${JSON.stringify(local)}: ${describeFsError(e)}`);
  }
  if (!isWithin(realpathSync(resolve(filesDir!)), real)) throw new LocalFileError(`local path ${JSON.stringify(local)} leads out of the files directory`);
  try {
    return readFileSync(real);
  } catch (e) {
    throw new LocalFileError(`cannot read local file ${JSON.stringify(local)}: ${describeFsError(e)}`);
  }
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
}
