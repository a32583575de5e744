// Figure 2 — the bundle: size of dist/flint.js with the CLI it loads,
// flint-core.js, raw and gzip -9, the V8 code cache beside them, and the
// number of modules esbuild put in it (from build.mjs's own metafile, via
// `node build.mjs --analyze`, so the count is of the real build). The
// biggest contributors come from a second, in-memory esbuild run of the same
// entry point, for docs/performance.md; it writes nothing.

import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { fmtBytes, row } from "../lib/report.mjs";

export const title = "bundle";

const MIB = 1024 * 1024;

export async function measure(ctx) {
  const analyze = spawnSync(process.execPath, ["build.mjs", "--analyze"], { cwd: ctx.repo, encoding: "utf8" });
  const match = /(\d+)\s+modules/.exec(analyze.stdout ?? "");
  const modules = match ? Number(match[1]) : null;
  const buildError = analyze.status === 0 ? null : firstError(analyze.stderr);

  const bundle = Buffer.concat([readFileSync(ctx.flint), readFileSync(join(dirname(ctx.flint), "flint-core.js"))]);
  const raw = bundle.length;
  const gzip = gzipSync(bundle, { level: 9 }).length;
  const cacheBytes = statSync(join(dirname(ctx.flint), "flint-core.v8cache")).size;
  const data = { rawBytes: raw, gzipBytes: gzip, codeCacheBytes: cacheBytes, modules, buildError, largestInputs: await largestInputs(ctx.repo) };
  const rows = [
    row("2", "bundle dist/flint.js + flint-core.js raw / gzip -9", { text: `${fmtBytes(raw)} / ${fmtBytes(gzip)}` }, null, {
      text: "≤ 1 MiB",
      ok: raw <= MIB,
    }),
    row("2", "V8 code cache dist/flint-core.v8cache (made by build.mjs)", { text: fmtBytes(cacheBytes) }),
    row("2", "modules in the bundle", modules !== null ? { text: String(modules) } : { na: buildError ?? "build.mjs --analyze printed no count" }),
  ];
  return { data, rows };
}

/** "build failed: Could not resolve "./aws"" from esbuild's report. */
function firstError(stderr = "") {
  const line = stderr.split("\n").find((l) => l.includes("[ERROR]"));
  return `build.mjs failed${line ? ": " + line.replace(/^.*\[ERROR\]\s*/, "") : ""}`;
}

/** The inputs that put the most bytes into the minified output. */
async function largestInputs(repo) {
  try {
    const { build } = await import("esbuild");
    const result = await build({
      absWorkingDir: repo,
      entryPoints: ["agent/main.ts"],
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      minify: true,
      write: false,
      metafile: true,
      outfile: "flint-analysis.js",
      logLevel: "silent",
      define: { FLINT_VERSION: '"bench"' },
      // as build.mjs: the YAML library is its own file, not part of flint.js
      external: ["yaml"],
    });
    const [output] = Object.values(result.metafile.outputs);
    return Object.entries(output.inputs)
      .map(([path, { bytesInOutput }]) => ({ path, bytesInOutput }))
      .sort((a, b) => b.bytesInOutput - a.bytesInOutput)
      .slice(0, 10);
  } catch (e) {
    return { na: e.message };
  }
}
