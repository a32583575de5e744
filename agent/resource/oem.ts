// The `oem://` scheme, as Flatcar's Ignition has it: `oem:///PATH` is PATH
// in the OEM tree, that is the OEM partition (mounted read-only for the
// read) or, where the image has no such partition, its OEM directory. The
// tree is treated as a root of its own: `..` stops at its top and symlinks
// resolve inside it, so no oem:// URL reads anything outside the tree.

import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { FlintError } from "../errors";
import { openRootFile, readRootFile } from "../root/read";

/** The absolute path an `oem:///PATH` URL names; an error for any other shape (`oem://config.ign` names a host). */
export function oemPath(source: string, label: string): string {
  const bad = () => new FlintError("an oem URL names a file by its absolute path in the OEM tree, as oem:///config.ign", label);
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw bad();
  }
  if (url.host !== "" || !url.pathname.startsWith("/") || url.pathname === "/") throw bad();
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new FlintError("invalid oem URL: bad percent-encoding", label);
  }
  if (path.includes("\0")) throw bad();
  return path;
}

/** The regular file `path` in the OEM tree at `oemDir`, at most `max` bytes; undefined when it is not there. */
export function readOemFile(oemDir: string, path: string, max: number): Buffer | undefined {
  return isDirectory(oemDir) ? readRootFile(oemDir, path, max) : undefined;
}

/**
 * Runs `use` on a stream of the file an oem:// URL names. `oemDir` is the
 * OEM tree when the caller holds it already (config assembly mounts it);
 * otherwise the OEM partition is mounted read-only for the read, as
 * Flatcar's Ignition does, or the image's OEM directory read when there is
 * no partition (platforms/paths.ts says where each is).
 */
export async function withOemStream<T>(source: string, label: string, oemDir: string | undefined, use: (stream: Readable) => Promise<T>): Promise<T> {
  const path = oemPath(source, label);
  const read = async (dir: string): Promise<T> => {
    const opened = isDirectory(dir) ? openRootFile(dir, path) : undefined;
    if (!opened) throw new FlintError("no such file in the OEM tree", label);
    const stream = createReadStream("", { fd: opened.fd });
    try {
      return await use(stream);
    } finally {
      // Closed before returning: the partition is unmounted next.
      if (!stream.closed) {
        const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
        stream.destroy();
        await closed;
      }
    }
  };
  if (oemDir !== undefined) return read(oemDir);
  const [{ withMedia }, { platformPaths }] = await Promise.all([import("../platforms/media"), import("../platforms/paths")]);
  const paths = platformPaths();
  return withMedia({ device: paths.oemDevice, fallback: paths.oem }, read);
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
