// How to make a small batch of new files durable before renaming them:
// one `sync -f` child process (syncfs) or an fsync of each file. Writes N
// small files under temporary names in DIR, makes them durable one way or
// the other, renames them and fsyncs the directory; prints the time of the
// durability step. Run it alternating, on the filesystem that matters:
//
//   for i in 1 2 3 4 5 6 7; do for m in spawn fsync; do
//     node bench/experiments/sync-batch.mjs /mnt/scratch/d 10 $m; done; done
//
// (docs/performance.md, "One durability point per stage").

import { spawn } from "node:child_process";
import { closeSync, fsync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

const [dir, count, mode] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
if (!dir || !Number.isInteger(count) || !["spawn", "fsync"].includes(mode)) {
  process.stderr.write("usage: node sync-batch.mjs DIR N spawn|fsync\n");
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const paths = [];
const fds = [];
for (let i = 0; i < count; i++) {
  const path = `${dir}/.t${i}`;
  const fd = openSync(path, "wx", 0o600);
  writeSync(fd, Buffer.from(`hello world ${i}\n`));
  if (mode === "fsync") fds.push(fd);
  else closeSync(fd);
  paths.push(path);
}
const started = performance.now();
if (mode === "spawn") await new Promise((resolve) => spawn("sync", ["-f", dir]).on("close", resolve));
else {
  await Promise.all(fds.map((fd) => new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())))));
  fds.forEach(closeSync);
}
const durable = performance.now() - started;
for (let i = 0; i < count; i++) renameSync(paths[i], `${dir}/f${i}`);
const dirFd = openSync(dir, "r");
fsyncSync(dirFd);
closeSync(dirFd);
console.log(`${mode} ${count} files: durable in ${durable.toFixed(1)} ms`);
rmSync(dir, { recursive: true });
