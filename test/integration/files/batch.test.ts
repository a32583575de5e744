// What the stage's shortcuts (parent directories resolved once, files
// renamed into place a batch at a time) must not change.

import { strict as assert } from "node:assert";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../../../agent/errors";
import { runStages } from "../../../agent/stages/run";
import { BATCH_LIMIT } from "../../../agent/stages/files/nodes";
import { TEMP_PREFIX } from "../../../agent/root/write";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { applyConfig, applyFailure, dataUrl, logLines, V, useCapturedLog } from "./run";

/** How many `sync -f` (syncfs) the runs since `from` started, from the debug log. */
const syncsSince = (from: number): number => logLines.slice(from).filter((l) => l.includes("running sync -f")).length;

describe("files stage: batches and cached directories", () => {
  useCapturedLog();
  const t = useTempRoot();

  it("forgets a directory it walked once the run replaces it: a later entry under it fails clearly", async () => {
    // Validation refuses this config (a link over a parent of other entries);
    // a hand-edited cache skips validation, and the stage must still not
    // write through a stale path. /x/y is walked for /x/y/f; the hard link at
    // /x/y (run after every file) replaces the directory with a file; the
    // hard link under it must find that out.
    const raw = {
      ignition: { version: V },
      storage: {
        files: [{ path: "/x/y/f", contents: { source: "data:,f" } }, { path: "/target", contents: { source: "data:,t" } }],
        links: [
          { path: "/x/y", target: "/target", hard: true, overwrite: true },
          { path: "/x/y/z", target: "/target", hard: true },
        ],
      },
    };
    const { error } = await runStages(raw, ["files"], { root: t.root, dryRun: false });
    assert.match(describeError(error), /\/x\/y exists and is not a directory/);
    assert.equal(lstatSync(join(t.root, "x/y")).ino, lstatSync(join(t.root, "target")).ino);
  });

  it(`commits a step of more than ${BATCH_LIMIT} files in parts, all complete, with no temporary name left`, async () => {
    const n = BATCH_LIMIT + 100;
    const files = Array.from({ length: n }, (_, i) => ({ path: `/many/d${i % 7}/f${i}`, contents: { source: `data:,${i}` } }));
    const report = await applyConfig(t.root, { ignition: { version: V }, storage: { files } });
    let count = 0;
    for (let d = 0; d < 7; d++) {
      for (const name of readdirSync(join(t.root, `many/d${d}`))) {
        assert.equal(readFileSync(join(t.root, `many/d${d}`, name), "utf8"), name.slice(1));
        count++;
      }
    }
    assert.equal(count, n);
    assert.equal(report.stages.flatMap((s) => s.actions).filter((a) => a.kind === "create").length, n);
    assert.deepEqual(snapshotTree(t.root).filter((l) => l.includes(TEMP_PREFIX)), []);
  });

  it("writes the same inline contents again without replacing the file, and refuses other contents without overwrite", async () => {
    const config = (text: string, overwrite?: boolean) => ({ ignition: { version: V }, storage: { files: [{ path: "/etc/app.conf", overwrite, contents: { source: dataUrl(text) } }] } });
    await applyConfig(t.root, config("one\n"));
    const ino = lstatSync(join(t.root, "etc/app.conf")).ino;
    await applyConfig(t.root, config("one\n"));
    assert.equal(lstatSync(join(t.root, "etc/app.conf")).ino, ino, "the same contents were rewritten");
    assert.match(await applyFailure(t.root, config("two\n")), /already exists with other contents/);
    await applyConfig(t.root, config("two\n", true));
    assert.equal(readFileSync(join(t.root, "etc/app.conf"), "utf8"), "two\n");
  });

  it("makes a whole stage durable by the one rule: a syncfs before the renames and one after, however many depths its entries are at", async () => {
    const from = logLines.length;
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: {
        directories: [{ path: "/srv/a" }, { path: "/srv/a/b" }],
        files: [{ path: "/srv/top", contents: { source: "data:,1" } }, { path: "/srv/a/mid", contents: { source: "data:,2" } }, { path: "/srv/a/b/deep", contents: { source: "data:,3" } }],
        links: [{ path: "/srv/a/b/link", target: "deep" }],
      },
    });
    assert.equal(syncsSince(from), 2);
    assert.equal(readFileSync(join(t.root, "srv/a/b/deep"), "utf8"), "3");
    assert.deepEqual(snapshotTree(t.root).filter((l) => l.includes(TEMP_PREFIX)), []);
  });

  it("puts a pending entry in place first when a later one needs it: a path through a new link, a hard link to a new file", async () => {
    // Validation refuses a path through a link of the same config; the stage
    // must still not write beside a link that is not in place yet.
    const { error } = await runStages({
      ignition: { version: V },
      storage: {
        directories: [{ path: "/data" }],
        files: [{ path: "/opt/app/config", contents: { source: "data:,c" } }, { path: "/srv/via/file", contents: { source: "data:,through%20the%20link" } }],
        links: [
          { path: "/srv/via", target: "/data" },
          { path: "/opt/app/config.hard", target: "/opt/app/config", hard: true },
        ],
      },
    }, ["files"], { root: t.root, dryRun: false });
    assert.equal(error, undefined);
    assert.equal(lstatSync(join(t.root, "srv/via")).isSymbolicLink(), true);
    assert.equal(readFileSync(join(t.root, "data/file"), "utf8"), "through the link");
    assert.equal(lstatSync(join(t.root, "opt/app/config.hard")).ino, lstatSync(join(t.root, "opt/app/config")).ino);
    assert.deepEqual(snapshotTree(t.root).filter((l) => l.includes(TEMP_PREFIX)), []);
  });

  it("looks owner names up in an /etc/passwd and /etc/group the same config writes", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: {
        files: [
          { path: "/etc/passwd", overwrite: true, contents: { source: dataUrl("root:x:0:0::/root:/bin/sh\nsvc:x:4242:4242::/home/svc:/bin/sh\n") } },
          { path: "/etc/group", overwrite: true, contents: { source: dataUrl("root:x:0:\nsvc:x:4343:\n") } },
          { path: "/opt/app/config", user: { name: "svc" }, group: { name: "svc" }, contents: { source: "data:,c" } },
        ],
      },
    });
    const config = lstatSync(join(t.root, "opt/app/config"));
    assert.deepEqual([config.uid, config.gid], [4242, 4343]);
  });
});
