// A first boot with a big config: the files stage command reads the cache
// fetch left (over 4 MiB) with its storage lists spooled beside it
// (config/text.ts, item-list.ts), not as JSON.parse's objects, and writes
// every entry, reading the items out of order as the stage applies them.

import { strict as assert } from "node:assert";
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run as stageCommand } from "../../../agent/commands/stage";
import { BIG_CONFIG_BYTES } from "../../../agent/config/limits";
import { useTempRoot } from "../../helpers/root";
import { useCapturedLog } from "./run";

describe("files stage at boot: a cached config over 4 MiB", function () {
  this.timeout(300_000);
  useCapturedLog();
  const t = useTempRoot();

  it("writes every directory, file and link of its spooled lists", async () => {
    const big = "x".repeat(BIG_CONFIG_BYTES / 4);
    const files = Array.from({ length: 2000 }, (_, i) => ({ path: `/srv/d${i % 7}/f${i}`, mode: 0o640, contents: { source: `data:,${i % 500 === 0 ? big : `file ${i}`}` } }));
    const directories = Array.from({ length: 7 }, (_, i) => ({ path: `/srv/d${i}`, mode: 0o750 }));
    const links = [{ path: "/srv/link", target: "d3/f3" }];
    const text = JSON.stringify({ ignition: { version: "3.6.0" }, storage: { files, directories, links } });
    assert.ok(text.length > BIG_CONFIG_BYTES);
    const run = join(t.dir, "run");
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.json"), text);
    // The initramfs may have no /tmp: the spool goes beside the cache.
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = join(t.dir, "no-such-directory");
    try {
      assert.equal(await stageCommand(["files", "--root", t.root, "--cache", join(run, "config.json")]), 0);
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    for (const i of [0, 1, 500, 1999]) assert.equal(readFileSync(join(t.root, files[i]!.path), "utf8"), i % 500 === 0 ? big : `file ${i}`);
    assert.equal(readlinkSync(join(t.root, "srv/link")), "d3/f3");
  });
});
