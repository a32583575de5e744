// Figure 5 — fetching: a 100 MiB file over HTTP from a loopback server (its
// own process, bench/http-server.mjs, on 127.0.0.1) with sha512 verification.
// Flint: `flint apply --stages files` of a config holding that one file with
// `verification.hash`, into a fresh root. Floor: `curl -o FILE URL &&
// sha512sum FILE` into the same filesystem. They alternate in one loop.
// Flint syncs the file before renaming it into place and curl does not, so a
// second floor adds `sync FILE` (fsync) to curl's side.
// Memory must stay flat (streamed): Flint's peak RSS is also taken fetching a
// 10 MiB file; a fetch that buffered the file would grow by at least the
// difference in size, a streamed one by far less (heap and buffer pools
// warming up, which stops: 400 MiB peaks where 100 MiB does).

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { alternate, NotAvailable, runOnce } from "../lib/measure.mjs";
import { fmtKiB, ratio, row } from "../lib/report.mjs";

export const title = "fetch";

const MIB = 1024 * 1024;

export async function measure(ctx) {
  const serveDir = join(ctx.tmp, "serve");
  mkdirSync(serveDir, { recursive: true });
  const big = makeRandomFile(join(serveDir, "big.bin"), ctx.fetchMiB);
  const small = makeRandomFile(join(serveDir, "small.bin"), 10);
  const server = await startServer(serveDir);
  try {
    return measureWith(ctx, server.port, big, small);
  } finally {
    server.stop();
    rmSync(serveDir, { recursive: true, force: true });
  }
}

function measureWith(ctx, port, big, small) {
  const node = process.execPath;
  const url = (name) => `http://127.0.0.1:${port}/${name}`;
  const configFor = (name, sha512) => {
    const path = join(ctx.tmp, `fetch-${name}.ign`);
    const config = {
      ignition: { version: "3.4.0" },
      storage: { files: [{ path: `/var/${name}`, mode: 0o644, contents: { source: url(name), verification: { hash: `sha512-${sha512}` } } }] },
    };
    writeFileSync(path, JSON.stringify(config));
    return path;
  };
  const bigConfig = configFor("big.bin", big.sha512);
  const smallConfig = configFor("small.bin", small.sha512);

  const roots = {};
  const flintSide = (name, config) => ({
    name,
    prepare: (i) => (roots[`${name}${i}`] = mkdtempSync(join(ctx.tmp, "fetch-root-"))),
    run: (i) => runOnce(node, [ctx.flint, "apply", "--config", config, "--root", roots[`${name}${i}`], "--stages", "files"]),
    cleanup: (i) => rmSync(roots[`${name}${i}`], { recursive: true, force: true }),
  });
  const curlOut = join(ctx.tmp, "curl-big.bin");
  const curlSide = {
    name: "curl",
    // A shell only to chain the two tools the way a person would; its cost is a fork.
    run: () => runOnce("/bin/sh", ["-c", 'curl -sSf -o "$1" "$2" && sha512sum "$1" >/dev/null', "sh", curlOut, url("big.bin")]),
    cleanup: () => rmSync(curlOut, { force: true }),
  };
  const curlSyncSide = {
    name: "curl+sync",
    run: () => runOnce("/bin/sh", ["-c", 'curl -sSf -o "$1" "$2" && sha512sum "$1" >/dev/null && sync "$1"', "sh", curlOut, url("big.bin")]),
    cleanup: () => rmSync(curlOut, { force: true }),
  };

  const data = { fileMiB: ctx.fetchMiB, url: url("big.bin") };
  let m;
  try {
    m = alternate([flintSide("flint", bigConfig), curlSide, curlSyncSide, flintSide("flint-small", smallConfig)], ctx.runs);
  } catch (e) {
    if (!(e instanceof NotAvailable)) throw e;
    data.na = e.message;
    return { data, rows: [row("5", `fetch ${ctx.fetchMiB} MiB over HTTP + sha512`, { na: e.message })] };
  }
  const throughput = (ms) => ctx.fetchMiB / (ms / 1000);
  const rel = ratio(m.curl.ms, m.flint.ms);
  const growthKiB = m.flint.rssKiB - m["flint-small"].rssKiB;
  const addedKiB = (ctx.fetchMiB - 10) * 1024;
  Object.assign(data, {
    ms: m.flint.ms,
    rssKiB: m.flint.rssKiB,
    mibPerS: throughput(m.flint.ms),
    curlMs: m.curl.ms,
    curlRssKiB: m.curl.rssKiB,
    curlMibPerS: throughput(m.curl.ms),
    throughputRatio: rel,
    curlSyncMs: m["curl+sync"].ms,
    curlSyncMibPerS: throughput(m["curl+sync"].ms),
    throughputRatioWithSync: ratio(m["curl+sync"].ms, m.flint.ms),
    rss10MiBKiB: m["flint-small"].rssKiB,
    rssGrowthKiB: growthKiB,
    msAll: m.flint.msAll,
    curlMsAll: m.curl.msAll,
  });
  const mibs = (ms) => `${throughput(ms).toFixed(0)} MiB/s`;
  return {
    data,
    rows: [
      row(
        "5",
        `fetch ${ctx.fetchMiB} MiB over HTTP + sha512 (throughput)`,
        { text: `${mibs(m.flint.ms)} (${(m.flint.ms / 1000).toFixed(2)} s)` },
        { text: `${mibs(m.curl.ms)} (${(m.curl.ms / 1000).toFixed(2)} s)` },
        { min: 0.8 },
        rel,
      ),
      row(
        "5",
        `fetch ${ctx.fetchMiB} MiB, floor with sync FILE (as Flint syncs)`,
        { text: `${mibs(m.flint.ms)} (${(m.flint.ms / 1000).toFixed(2)} s)` },
        { text: `${mibs(m["curl+sync"].ms)} (${(m["curl+sync"].ms / 1000).toFixed(2)} s)` },
        { min: 0.8 },
        ratio(m["curl+sync"].ms, m.flint.ms),
      ),
      row(
        "5",
        `fetch peak RSS ${ctx.fetchMiB} MiB vs 10 MiB file`,
        { kib: m.flint.rssKiB },
        { kib: m["flint-small"].rssKiB },
        { text: `streamed: grew ${fmtKiB(growthKiB)} < ½ of +${fmtKiB(addedKiB)}`, ok: growthKiB < addedKiB / 2 },
      ),
    ],
  };
}

/** Writes `mib` MiB of random bytes and returns their sha512. */
function makeRandomFile(path, mib) {
  const hash = createHash("sha512");
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < mib; i++) {
      const chunk = randomBytes(MIB);
      hash.update(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return { path, sha512: hash.digest("hex") };
}

function startServer(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL("../http-server.mjs", import.meta.url).pathname, dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the benchmark HTTP server exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once("line", (line) => {
      resolve({ port: JSON.parse(line).port, stop: () => child.kill("SIGTERM") });
    });
  });
}
