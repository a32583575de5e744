// Bundles the CLI (agent/core.ts) into one minified file for Node 20,
// dist/flint-core.js, started by dist/flint.js (agent/loader.ts) through a V8
// code cache, dist/flint-core.v8cache, made here by training runs of the
// CLI. Beside them: the YAML library that only Butane configs need
// (flint-yaml.js) and the machine dump's systeminformation (flint-sysinfo.js),
// required at run time, so that other runs never load them.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Paths below are relative to the repository, wherever this is run from.
const repo = fileURLToPath(new URL(".", import.meta.url));
process.chdir(repo);

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
/** What every file in dist/ is built with: one minified CommonJS file for Node 20. */
const common = {
  absWorkingDir: repo,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
};
const result = await build({
  ...common,
  entryPoints: ["agent/core.ts"],
  outfile: "dist/flint-core.js",
  // import() of Node's own modules becomes a require: the loader runs the core
  // through vm.Script, where import() would need a callback of its own.
  supported: { "dynamic-import": false },
  define: { FLINT_VERSION: JSON.stringify(version) },
  metafile: true,
  plugins: [
    {
      name: "yaml-beside",
      setup(b) {
        b.onResolve({ filter: /^yaml$/ }, () => ({ path: "./flint-yaml.js", external: true }));
        b.onResolve({ filter: /^systeminformation$/ }, () => ({ path: "./flint-sysinfo.js", external: true }));
      },
    },
  ],
});
// The loader uses a code cache only with the core it was made from (agent/loader.ts).
const coreSource = readFileSync("dist/flint-core.js", "utf8");
writeFileSync("dist/flint-core.js", `//flint-core ${createHash("sha256").update(coreSource).digest("hex").slice(0, 32)}\n${coreSource}`);
await build({ ...common, entryPoints: ["agent/loader.ts"], outfile: "dist/flint.js", banner: { js: "#!/usr/bin/env node" } });
/** A library that only some runs need, bundled on its own beside flint.js, which requires it by that name. */
async function sideLibrary(outfile, contents) {
  await build({ ...common, stdin: { contents, resolveDir: repo, loader: "js" }, outfile });
}
await sideLibrary("dist/flint-yaml.js", 'module.exports = require("yaml");');
// The parts of systeminformation the debug machine dump uses (agent/console/machine-dump.ts).
await sideLibrary(
  "dist/flint-sysinfo.js",
  'module.exports = { ...require("systeminformation/lib/system"), ...require("systeminformation/lib/filesystem"), ...require("systeminformation/lib/network") };',
);
chmodSync("dist/flint.js", 0o755);
trainCodeCache();
if (process.argv.includes("--analyze")) console.log(Object.keys(result.metafile.inputs).length, "modules");

/**
 * Makes dist/flint-core.v8cache: runs the CLI on a small config that touches
 * every kind of entry the files stage writes (validate, plan, apply into a
 * scratch root), each run adding what it compiled to the cache. Users need
 * root (useradd), so only root's builds train them. The cache fits the node
 * that made it; another node ignores it (see agent/loader.ts).
 */
function trainCodeCache() {
  rmSync("dist/flint-core.v8cache", { force: true });
  const work = mkdtempSync(join(tmpdir(), "flint-train-"));
  try {
    const root = join(work, "root");
    const config = join(work, "train.ign");
    const asRoot = process.getuid?.() === 0;
    const data = (text) => `data:,${encodeURIComponent(text)}`;
    writeFileSync(config, JSON.stringify({
      ignition: { version: "3.4.0" },
      passwd: asRoot ? { users: [{ name: "trainee", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKk trainee"] }], groups: [{ name: "trainees" }] } : {},
      storage: {
        directories: [{ path: "/train/dir", mode: 493 }],
        files: [
          { path: "/train/dir/plain", mode: 420, contents: { source: data("plain\n"), verification: { hash: "sha512-" + sha512("plain\n") } } },
          { path: "/train/dir/base64", contents: { source: "data:;base64,YmFzZTY0Cg==" }, append: [{ source: data("more\n") }] },
          { path: "/train/dir/empty", overwrite: true, contents: { source: "data:," } },
        ],
        links: [{ path: "/train/link", target: "dir/plain" }, { path: "/train/hard", target: "/train/dir/plain", hard: true }],
      },
      systemd: { units: [{ name: "train.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", dropins: [{ name: "x.conf", contents: "[Service]\n" }] }, { name: "masked.service", mask: true }] },
    }));
    if (asRoot) {
      execFileSync("mkdir", ["-p", join(root, "etc"), join(root, "home")]);
      writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
      writeFileSync(join(root, "etc/group"), "root:x:0:\n");
      writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o640 });
      writeFileSync(join(root, "etc/gshadow"), "root:*::\n", { mode: 0o640 });
    } else execFileSync("mkdir", ["-p", root]);
    const env = { ...process.env, FLINT_CODE_CACHE: "write" };
    for (const args of [["--version"], ["validate", config], ["plan", "--config", config, "--root", root], ["apply", "--config", config, "--root", root, "--stages", "files"]]) {
      execFileSync(process.execPath, ["dist/flint.js", "--log-level", "error", ...args], { env, stdio: ["ignore", "ignore", "inherit"] });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function sha512(text) {
  return createHash("sha512").update(text).digest("hex");
}
