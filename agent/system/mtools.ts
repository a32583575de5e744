// mtools: reading and deleting files on a FAT filesystem without mounting it
// (for kernels without vfat, such as some build hosts). The only caller of mtools.

import { FlintError } from "../errors";
import { redact } from "../secrets";
import { run } from "./exec";

// mtools refuses images whose geometry looks odd unless told not to check.
const ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

/** `::/a/b` form of a path inside the FAT image. */
function fatPath(path: string): string {
  return "::/" + path.replace(/^\/+/, "");
}

/** True when `mdel` (and so mtools) is installed. */
export async function available(): Promise<boolean> {
  try {
    await run("mtools", ["-V"], { env: ENV });
    return true;
  } catch (e) {
    if (e instanceof FlintError && /not installed/.test(e.message)) return false;
    throw e;
  }
}

/** Whether `path` exists as a file on the FAT filesystem in `device`. */
export async function fileExists(device: string, path: string): Promise<boolean> {
  // mdir exits 1 both for "no such file" and for real errors; tell them apart by the message.
  const result = await run("mdir", ["-b", "-i", device, "--", fatPath(path)], { env: ENV, okCodes: [1] });
  if (result.code === 0) return true;
  if (/not found|No such file/i.test(result.stderr + result.stdout)) return false;
  throw new FlintError(`mdir failed: ${(result.stderr || redact(result.stdout)).trim()}`, `${device}:${path}`);
}

export async function deleteFile(device: string, path: string): Promise<void> {
  await run("mdel", ["-i", device, "--", fatPath(path)], { env: ENV });
}
