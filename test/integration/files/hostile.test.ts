// Hostile configs and roots: whatever they try, nothing is written outside
// the root (the canary directory beside it is checked after every case).

import { strict as assert } from "node:assert";
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { constants, gzipSync } from "node:zlib";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import type { Config } from "../../../agent/config/types";
import { describeError } from "../../../agent/errors";
import { runStages } from "../../../agent/stages/run";
import { applyConfig, applyFailure, dataUrl, V, useCapturedLog } from "./run";

describe("files stage: hostile configs and roots", () => {
  useCapturedLog();
  const t = useTempRoot();

  it("follows a symlink to / on the write path as if chrooted: the file lands inside the root", async () => {
    symlinkSync("/", join(t.root, "etc/escape"));
    // From the root, the canary is ../canary; through the link that is still inside.
    const canaryFromRoot = relative(t.root, t.canary);
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: `/etc/escape/${canaryFromRoot.replace(/^(\.\.\/)+/, "")}/etc/motd`, contents: { source: "data:,pwned" } }] } });
    assert.equal(readFileSync(join(t.root, "canary/etc/motd"), "utf8"), "pwned");
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/escape/etc/written", contents: { source: "data:,in" } }] } });
    assert.equal(readFileSync(join(t.root, "etc/written"), "utf8"), "in");
  });

  it("clamps a symlink to ../../../.. at the root: the file lands inside the root", async () => {
    symlinkSync("../../../../../../../..", join(t.root, "etc/up"));
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/up/canary/untouched", overwrite: true, contents: { source: "data:,pwned" } }] } });
    assert.equal(readFileSync(join(t.root, "canary/untouched"), "utf8"), "pwned");
  });

  it("creates directories and links through such symlinks inside the root too", async () => {
    symlinkSync("/", join(t.root, "slash"));
    symlinkSync("../../../..", join(t.root, "dots"));
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: {
        directories: [{ path: "/slash/dots/canary/newdir" }],
        links: [{ path: "/dots/slash/canary/link", target: "/etc/passwd" }],
      },
    });
    assert.ok(statSync(join(t.root, "canary/newdir")).isDirectory());
    assert.ok(lstatSync(join(t.root, "canary/link")).isSymbolicLink());
  });

  it("resolves a hard link target that passes through such a symlink inside the root", async () => {
    symlinkSync("/", join(t.root, "etc/escape"));
    symlinkSync("../../../../../..", join(t.root, "etc/up"));
    mkdirSync(join(t.root, "canary"));
    writeFileSync(join(t.root, "canary/untouched"), "inside copy\n");
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: {
        links: [
          { path: "/etc/hard1", hard: true, target: "/etc/escape/canary/untouched" },
          { path: "/etc/hard2", hard: true, target: "/etc/up/canary/untouched" },
        ],
      },
    });
    for (const name of ["hard1", "hard2"]) {
      assert.equal(statSync(join(t.root, "etc", name)).ino, statSync(join(t.root, "canary/untouched")).ino, name);
      assert.notEqual(statSync(join(t.root, "etc", name)).ino, statSync(join(t.canary, "untouched")).ino, name);
    }
  });

  it("never writes through a hard link's target to outside: a link to a file outside the root is replaced, not written into", async () => {
    // A root prepared by someone else may hold a hard link to a host file.
    linkSync(join(t.canary, "untouched"), join(t.root, "etc/sneaky"));
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/sneaky", overwrite: true, contents: { source: "data:,replaced" } }] } });
    assert.equal(readFileSync(join(t.root, "etc/sneaky"), "utf8"), "replaced");
  });

  it("gives a hard link no owner or mode of its own: a setuid target owned by 500:500 keeps both, and a re-run changes nothing", async () => {
    const target = join(t.root, "etc/tool");
    writeFileSync(target, "#!/bin/sh\n");
    chownSync(target, 500, 500);
    chmodSync(target, 0o4755);
    const before = statSync(target);
    const config = { ignition: { version: V }, storage: { links: [{ path: "/etc/tool-link", hard: true, target: "/etc/tool", user: { id: 0 }, group: { id: 0 } }] } };
    const first = await applyConfig(t.root, config);
    const link = statSync(join(t.root, "etc/tool-link"));
    assert.equal(link.ino, before.ino);
    for (const st of [link, statSync(target)]) {
      assert.equal(st.uid, 500);
      assert.equal(st.gid, 500);
      assert.equal(st.mode & 0o7777, 0o4755, "setuid survives");
    }
    assert.deepEqual(first.stages[0]!.actions.map((a) => a.kind), ["link"]);
    const tree = snapshotTree(t.root, { ignore: (p) => p === "etc/.flint-result.json" });
    const ctime = statSync(target).ctimeMs;
    const second = await applyConfig(t.root, config);
    assert.deepEqual(second.stages[0]!.actions, [], "a re-run has nothing to do");
    assert.deepEqual(snapshotTree(t.root, { ignore: (p) => p === "etc/.flint-result.json" }), tree);
    assert.equal(statSync(target).ctimeMs, ctime, "the inode was not touched (no chown or chmod)");
  });

  it("rejects .. segments in config paths as a validation error, before writing anything", async () => {
    const err = await applyFailure(t.root, {
      ignition: { version: V },
      storage: { files: [{ path: "/etc/ok", contents: { source: "data:,ok" } }, { path: "/etc/../../canary/untouched", contents: { source: "data:,x" } }] },
    });
    assert.match(err, /invalid config:[\s\S]*storage\.files\.1\.path: .*\.\./);
    assert.equal(existsSync(join(t.root, "etc/ok")), false, "nothing is written when a path is bad");
  });

  it("checks paths again in the stage itself, for a config that skipped validation (a hand-edited cache)", async () => {
    const ok = { path: "/etc/ok", contents: { source: "data:,ok" } };
    const cases: [Config["storage"], RegExp][] = [
      [{ files: [ok, { path: "/etc/../../canary/untouched", contents: { source: "data:,x" } }] }, /^storage\.files\.1\.path, file \/etc\/\.\.\/\.\.\/canary\/untouched: path must be clean: no "\/\/", "\." or "\.\." parts/],
      [{ files: [ok], directories: [{ path: "relative/dir" }] }, /^storage\.directories\.0\.path, directory relative\/dir: path must be absolute/],
    ];
    for (const [storage, expected] of cases) {
      const { error } = await runStages({ ignition: { version: V }, storage }, ["files"], { root: t.root, dryRun: false });
      assert.match(describeError(error), expected);
      assert.equal(existsSync(join(t.root, "etc/ok")), false, "nothing is written when a path is bad");
    }
  });

  it("fails clearly on a path under an existing regular file", async () => {
    writeFileSync(join(t.root, "etc/plain"), "x");
    const err = await applyFailure(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/plain/child", contents: { source: "data:,y" } }] } });
    assert.match(err, /\/etc\/plain exists and is not a directory/);
    assert.equal(readFileSync(join(t.root, "etc/plain"), "utf8"), "x");
  });

  it("stops a 2 GiB gzip bomb at the size cap and leaves no partial file", async function () {
    this.timeout(600_000);
    // 2 GiB of zeros compress to about 2 MiB; built in 64 MiB steps to keep memory low.
    const chunk = Buffer.alloc(64 * 1024 * 1024);
    const parts: Buffer[] = [];
    for (let i = 0; i < 32; i++) parts.push(gzipSync(chunk, { level: constants.Z_BEST_COMPRESSION }));
    const bomb = Buffer.concat(parts); // concatenated gzip members are one valid gzip stream
    const err = await applyFailure(t.root, { ignition: { version: V }, storage: { files: [{ path: "/var/bomb", contents: { source: dataUrl(bomb), compression: "gzip" } }] } });
    assert.match(err, /storage\.files\.0\.contents.*(limit|cap|exceed)/i);
    assert.equal(existsSync(join(t.root, "var/bomb")), false);
    assert.deepEqual(readdirSync(join(t.root, "var")), [], "a temporary file was left behind");
  });
});
