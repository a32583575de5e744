// What Flint writes at the top of the root and reads from it, with a hostile
// root or a config that skipped validation: the root itself is never an
// entry, files Flint owns in the root (crypttab, LUKS keys, the report) go
// through the in-root resolver, and a FIFO where a file should be is an
// error, never a hang. The canary beside the root is checked after each test.

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../../../agent/errors";
import { readReport } from "../../../agent/report";
import { installInRoot } from "../../../agent/stages/luks-keys";
import { runStages } from "../../../agent/stages/run";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { applyConfig, applyFailure, V, useCapturedLog } from "./run";

const mkfifo = (path: string): void => {
  execFileSync("mkfifo", ["--", path]);
};

describe("the root itself and what Flint reads from it", () => {
  useCapturedLog();
  const t = useTempRoot();

  for (const [kind, entry] of [
    ["files", { path: "/", overwrite: true, contents: { source: "data:,gone" } }],
    ["links", { path: "/", overwrite: true, target: "/tmp" }],
    ["directories", { path: "/", overwrite: true }],
  ] as const) {
    it(`never treats "/" as an entry of storage.${kind} to replace, even when validation was skipped`, async () => {
      const before = snapshotTree(t.root);
      const { error } = await runStages({ ignition: { version: V }, storage: { [kind]: [entry] } }, ["files"], { root: t.root, dryRun: false });
      assert.match(describeError(error), new RegExp(`^storage\\.${kind}\\.0\\.path\\b.*: path must not be "/"`));
      assert.ok(statSync(t.root).isDirectory());
      assert.deepEqual(snapshotTree(t.root), before, "the root is unchanged");
      assert.deepEqual(readdirSync(t.dir).sort(), ["canary", "root"], "nothing was made beside the root");
    });
  }

  it("reads and replaces the root's /etc/crypttab and /etc/luks inside the root, never through a symlink to the host", async () => {
    const hostFile = join(t.canary, "etc/motd");
    symlinkSync(hostFile, join(t.root, "etc/crypttab"));
    symlinkSync(join(t.canary, "etc"), join(t.root, "etc/luks"));
    await installInRoot(t.root, { name: "data", device: "/dev/null" }, Buffer.from("secret key"), "1234-uuid", "storage.luks.0");
    const crypttab = readFileSync(join(t.root, "etc/crypttab"), "utf8");
    assert.equal(crypttab, "data UUID=1234-uuid /etc/luks/data luks\n", "the host file's lines were not copied in");
    assert.equal(lstatSync(join(t.root, "etc/crypttab")).isFile(), true, "the symlink was replaced, not written through");
    // /etc/luks pointed at the canary's etc: followed as if chrooted, the key lands inside the root.
    const inside = join(t.root, t.canary, "etc/data");
    assert.equal(readFileSync(inside, "utf8"), "secret key");
    assert.equal(statSync(inside).mode & 0o777, 0o600);
    assert.equal(existsSync(join(t.canary, "etc/data")), false);
  });

  it("refuses a FIFO at /etc/login.defs before the shadow tools would hang on it", async function () {
    this.timeout(20_000);
    const path = join(t.root, "etc/login.defs");
    execFileSync("rm", ["-f", "--", path]);
    mkfifo(path);
    const err = await applyFailure(t.root, { ignition: { version: V }, passwd: { users: [{ name: "core" }] } });
    assert.match(err, /\/etc\/login\.defs: is a FIFO, not a regular file/);
  });

  it("refuses a FIFO at /etc/passwd when an owner is looked up by name", async function () {
    this.timeout(20_000);
    const path = join(t.root, "etc/passwd");
    execFileSync("rm", ["-f", "--", path]);
    mkfifo(path);
    const err = await applyFailure(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/x", contents: { source: "data:,x" }, user: { name: "core" } }] } });
    assert.match(err, /\/etc\/passwd: is a FIFO, not a regular file/);
  });

  it("refuses a FIFO at the report's path for `flint report`, and a FIFO where crypttab is", async function () {
    this.timeout(20_000);
    mkfifo(join(t.root, "etc/.flint-result.json"));
    const named = (re: RegExp) => (e: unknown) => re.test(describeError(e));
    await assert.rejects(readReport(t.root), named(/^\/etc\/\.flint-result\.json: is a FIFO, not a regular file/));
    mkfifo(join(t.root, "etc/crypttab"));
    await assert.rejects(installInRoot(t.root, { name: "data", device: "/dev/null" }, Buffer.from("k"), "u", "storage.luks.0"), named(/^\/etc\/crypttab: is a FIFO/));
  });

  it("overwrite: true on a directory empties it (as Ignition), removing links in it without following them", async () => {
    const d = join(t.root, "srv/d");
    mkdirSync(join(d, "sub"), { recursive: true, mode: 0o700 });
    writeFileSync(join(d, "old"), "old\n");
    writeFileSync(join(d, "sub/deep"), "deep\n");
    symlinkSync(t.canary, join(d, "to-canary"));
    symlinkSync("../../../canary", join(d, "sub/up"));
    const config = { ignition: { version: V }, storage: { directories: [{ path: "/srv/d", overwrite: true, mode: 0o750 }], files: [{ path: "/srv/d/new", contents: { source: "data:,new" } }] } };
    const first = await applyConfig(t.root, config);
    assert.deepEqual(readdirSync(d), ["new"]);
    assert.equal(statSync(d).mode & 0o7777, 0o750);
    assert.ok(first.stages[0]!.actions.some((a) => a.kind === "empty" && a.target === "/srv/d"));
    const tree = snapshotTree(t.root, { ignore: (p) => p === "etc/.flint-result.json" });
    await applyConfig(t.root, config);
    const again = snapshotTree(t.root, { ignore: (p) => p === "etc/.flint-result.json" });
    assert.deepEqual(again.filter((l) => !tree.includes(l)), tree.filter((l) => !again.includes(l)), "a re-run gives the same tree");
  });

  it("without overwrite, an existing directory keeps its contents", async () => {
    mkdirSync(join(t.root, "srv/k"), { recursive: true });
    writeFileSync(join(t.root, "srv/k/kept"), "kept\n");
    await applyConfig(t.root, { ignition: { version: V }, storage: { directories: [{ path: "/srv/k" }] } });
    assert.deepEqual(readdirSync(join(t.root, "srv/k")), ["kept"]);
  });
});
