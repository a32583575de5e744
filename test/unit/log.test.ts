// The log's lines go to stderr gathered per turn of the event loop (agent/log.ts):
// in order, interleaved correctly with other stderr text, and all of them out
// however the process ends, short of a kill.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const LOG = join(__dirname, "../../agent/log.ts");

function runWithLog(body: string) {
  const script = `const { log, writeStderr } = require(${JSON.stringify(LOG)});\n${body}`;
  return spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8" });
}

describe("the log on stderr", () => {
  it("writes every line in order, with other stderr text in its place, across turns of the event loop", () => {
    const r = runWithLog(`
      for (let i = 0; i < 3000; i++) log.info("line " + i);
      writeStderr("plain text\\n");
      setTimeout(() => log.warn("later"), 5);`);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 3002);
    assert.equal(lines[0], "flint[info]: line 0");
    assert.equal(lines[2999], "flint[info]: line 2999");
    assert.equal(lines[3000], "plain text");
    assert.equal(lines[3001], "flint[warn]: later");
  });

  it("loses nothing when the process exits at once, or throws", () => {
    const exited = runWithLog(`log.info("before exit"); process.exit(3);`);
    assert.equal(exited.status, 3);
    assert.equal(exited.stderr, "flint[info]: before exit\n");
    const thrown = runWithLog(`log.error("before the throw"); throw new Error("boom");`);
    assert.notEqual(thrown.status, 0);
    assert.match(thrown.stderr, /^flint\[error\]: before the throw\n/);
  });
});
