// An experiment behind docs/performance.md, not part of Flint: how the sink
// a download is piped into changes its throughput. Each variant fetches the
// same file from the loopback benchmark server (bench/http-server.mjs, its own
// process), hashes it with sha512 in a Transform, writes it to a file and
// fsyncs it, in its own process; the variants alternate.
//   awaited — a Writable (default 16 KiB high-water mark) whose write() awaits
//             FileHandle.write for each chunk (the shape of fetchToFile today)
//   writev  — the same with a 1 MiB high-water mark and writev(), so chunks
//             that arrive during a write go out together in the next one
//   stream  — fs.createWriteStream
//
// Usage: node bench/experiments/stream-sink.mjs [MiB=100]   (RUNS=5)

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

if (process.argv[2] === "--child") {
  const [, , , mode, url, out] = process.argv;
  await fetchWith(mode, url, out);
} else {
  const { alternate, runOnce } = await import("../lib/measure.mjs");
  const mib = Number(process.argv[2] ?? 100);
  const runs = Number(process.env.RUNS ?? 5);
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), "flint-sink-exp-"));
  const server = [];
  process.on("exit", () => {
    server[0]?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, "big.bin"), randomBytes(mib * 1024 * 1024));
  const child = spawn(process.execPath, [fileURLToPath(new URL("../http-server.mjs", import.meta.url)), dir], { stdio: ["ignore", "pipe", "inherit"] });
  server.push(child);
  const port = await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", (l) => resolve(JSON.parse(l).port)));
  const url = `http://127.0.0.1:${port}/big.bin`;
  const self = fileURLToPath(import.meta.url);
  const variant = (mode) => ({
    name: mode,
    run: () => runOnce(process.execPath, [self, "--child", mode, url, join(dir, `out-${mode}`)]),
    cleanup: () => rmSync(join(dir, `out-${mode}`), { force: true }),
  });
  const m = alternate([variant("awaited"), variant("writev"), variant("stream")], runs);
  for (const [mode, v] of Object.entries(m)) {
    process.stdout.write(`${mode.padEnd(8)} ${mib} MiB: ${v.ms.toFixed(0)} ms (${(mib / (v.ms / 1000)).toFixed(0)} MiB/s), ${(v.rssKiB / 1024).toFixed(1)} MiB RSS\n`);
  }
  process.exit(0); // the server's stdout pipe would keep this process alive
}

async function fetchWith(mode, url, out) {
  const response = await new Promise((resolve, reject) => get(url, resolve).on("error", reject));
  const hash = createHash("sha512");
  const meter = new Transform({
    transform(chunk, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  if (mode === "stream") {
    const sink = createWriteStream(out);
    await pipeline(response, meter, sink);
    const handle = await open(out, "r+");
    await handle.sync();
    await handle.close();
  } else {
    const handle = await open(out, "w", 0o600);
    const sink =
      mode === "awaited"
        ? new Writable({ write: (chunk, _enc, done) => void handle.write(chunk).then(() => done(), done) })
        : new Writable({
            highWaterMark: 1024 * 1024,
            writev: (chunks, done) => void handle.writev(chunks.map((c) => c.chunk)).then(() => done(), done),
          });
    await pipeline(response, meter, sink);
    await handle.sync();
    await handle.close();
  }
  hash.digest("hex");
}
