// An experiment behind docs/performance.md, not part of Flint: the cost of
// the files stage's per-file system calls when each is an awaited
// fs.promises call (a round trip through libuv's thread pool) versus the same
// calls made synchronously on the main thread. Each variant writes N small
// files the safe way (temporary name, write, fchmod, fchown, fsync, close,
// rename) into a fresh directory, in its own process; the variants alternate.
// A third variant keeps the same crash safety with one flush instead of N:
// write every temporary file, flush the filesystem once (`sync -f`, i.e.
// syncfs(2)), then rename them all (a crash before the renames leaves only
// temporary names; after them, only complete files).
//
// Usage: node bench/experiments/write-files.mjs [N=1000]   (RUNS=5, NO_FSYNC=1 to leave fsync out)
// Child mode: node bench/experiments/write-files.mjs --child async|sync DIR N

import { execFileSync } from "node:child_process";
import { closeSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { mkdir, open, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const fsyncToo = process.env.NO_FSYNC !== "1";

if (process.argv[2] === "--child") {
  const [, , , mode, dir, n] = process.argv;
  await { sync: writeSync_, async: writeAsync, batched: writeBatched }[mode](dir, Number(n));
} else {
  const { alternate, runOnce } = await import("../lib/measure.mjs");
  const n = Number(process.argv[2] ?? 1000);
  const runs = Number(process.env.RUNS ?? 5);
  const base = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), "flint-write-exp-"));
  process.on("exit", () => rmSync(base, { recursive: true, force: true }));
  const self = fileURLToPath(import.meta.url);
  const variant = (mode) => ({
    name: mode,
    prepare: (i) => mkdirSync(join(base, `${mode}${i}`)),
    run: (i) => runOnce(process.execPath, [self, "--child", mode, join(base, `${mode}${i}`), String(n)]),
    cleanup: (i) => rmSync(join(base, `${mode}${i}`), { recursive: true, force: true }),
  });
  const m = alternate([variant("async"), variant("sync"), variant("batched")], runs);
  for (const [mode, v] of Object.entries(m)) {
    process.stdout.write(`${mode.padEnd(6)} ${n} files${fsyncToo ? "" : " (no fsync)"}: ${v.ms.toFixed(0)} ms, ${(v.rssKiB / 1024).toFixed(1)} MiB\n`);
  }
  process.stdout.write(`async / sync: ${(m.async.ms / m.sync.ms).toFixed(2)}×, async / batched: ${(m.async.ms / m.batched.ms).toFixed(2)}×\n`);
}

async function writeAsync(dir, n) {
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${i % 100}`);
    await mkdir(sub, { recursive: true });
    const tmp = join(sub, `.f${i}.tmp`);
    const fh = await open(tmp, "wx", 0o600);
    await fh.write(Buffer.from(`file ${i}\n`));
    await fh.chmod(0o644);
    await fh.chown(0, 0);
    if (fsyncToo) await fh.sync();
    await fh.close();
    await rename(tmp, join(sub, `f${i}`));
  }
}

async function writeSync_(dir, n) {
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${i % 100}`);
    mkdirSync(sub, { recursive: true });
    const tmp = join(sub, `.f${i}.tmp`);
    const fd = openSync(tmp, "wx", 0o600);
    writeSync(fd, Buffer.from(`file ${i}\n`));
    fchmodSync(fd, 0o644);
    fchownSync(fd, 0, 0);
    if (fsyncToo) fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(sub, `f${i}`));
  }
}

async function writeBatched(dir, n) {
  const pending = [];
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${i % 100}`);
    mkdirSync(sub, { recursive: true });
    const tmp = join(sub, `.f${i}.tmp`);
    const fd = openSync(tmp, "wx", 0o600);
    writeSync(fd, Buffer.from(`file ${i}\n`));
    fchmodSync(fd, 0o644);
    fchownSync(fd, 0, 0);
    closeSync(fd);
    pending.push([tmp, join(sub, `f${i}`)]);
  }
  if (fsyncToo) execFileSync("sync", ["-f", dir]);
  for (const [tmp, path] of pending) renameSync(tmp, path);
  if (fsyncToo) execFileSync("sync", ["-f", dir]);
}
