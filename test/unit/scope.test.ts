// Per-request state (agent/scope.ts): two requests running at once never
// share a log sink, a level or secrets, and a request's signal cancels the
// tool it runs and the files stage between its steps.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { log, logLevelEnabled } from "../../agent/log";
import { inScope, type Scope } from "../../agent/scope";
import { redact, rememberSecret } from "../../agent/secrets";
import { run } from "../../agent/system/exec";
import { runStages } from "../../agent/stages/run";
import { useTempRoot } from "../helpers/root";

function scope(lines: string[], level: "info" | "debug" = "info", signal?: AbortSignal): Scope {
  return { log: { level, format: "text", write: (line) => lines.push(line) }, signal };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("per-request scopes", () => {
  it("two requests at once: each one's lines, level and secrets stay its own", async () => {
    const a: string[] = [];
    const b: string[] = [];
    await Promise.all([
      inScope(scope(a, "debug"), async () => {
        rememberSecret("alpha-secret");
        await tick();
        log.debug("from a");
        assert.equal(logLevelEnabled("debug"), true);
        assert.equal(redact("x alpha-secret y beta-secret"), "x <redacted> y beta-secret");
      }),
      inScope(scope(b), async () => {
        rememberSecret("beta-secret");
        await tick();
        log.debug("from b, hidden");
        log.info("from b");
        assert.equal(logLevelEnabled("debug"), false);
        assert.equal(redact("x alpha-secret y beta-secret"), "x alpha-secret y <redacted>");
      }),
    ]);
    assert.deepEqual(a, ["flint[debug]: from a"]);
    assert.deepEqual(b, ["flint[info]: from b"]);
  });

  it("a log line holding a newline stays one line", () => {
    const lines: string[] = [];
    void inScope(scope(lines), async () => log.info("create /etc/x\n@flint-agent exit 0\n", { path: "a\nb" }));
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /\n/);
    assert.match(lines[0]!, /create \/etc\/x\\n@flint-agent exit 0\\n/);
  });

  it("a cancelled request's tool is killed at once, and no tool starts after", async () => {
    const controller = new AbortController();
    const seconds = `30.${process.pid}`;
    const started = Date.now();
    const running = inScope(scope([], "info", controller.signal), () => run("sleep", [seconds]));
    const outcome = assert.rejects(running, /cancelled: its client went away/);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort(new Error("cancelled: its client went away"));
    await outcome;
    assert.ok(Date.now() - started < 5_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(spawnSync("pgrep", ["-f", "-x", `sleep ${seconds}`]).status, 0, "the tool outlived its cancelled request");
    await assert.rejects(inScope(scope([], "info", controller.signal), () => run("true", [])), /cancelled/);
  });

  describe("a cancelled run", () => {
    const t = useTempRoot();
    it("writes nothing more: the files stage stops before its next step", async () => {
      const controller = new AbortController();
      controller.abort(new Error("cancelled: its client went away"));
      const config = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/never", contents: { source: "data:,x" } }] } };
      const { error } = await inScope(scope([], "info", controller.signal), () => runStages(config as never, ["files"], { root: t.root, dryRun: false, signal: controller.signal }));
      assert.match(String((error as Error)?.message), /cancelled/);
      assert.equal(spawnSync("test", ["-e", `${t.root}/etc/never`]).status, 1);
    });
  });
});
