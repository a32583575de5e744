// The process runner with real processes: a tool that hangs is killed and
// named when its time is up, and a tool's message never carries a secret.

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlintError } from "../../../agent/errors";
import { forgetSecrets, rememberConfigSecrets, rememberSecret } from "../../../agent/secrets";
import { absolutePaths, run } from "../../../agent/system/exec";

async function failure(p: Promise<unknown>): Promise<FlintError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FlintError, String(e));
    return e;
  }
  throw new Error("expected a failure");
}

/** Whether a process with this exact command line is alive. */
function alive(marker: string): boolean {
  try {
    execFileSync("pgrep", ["-f", "-x", marker], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("running a tool", () => {
  afterEach(() => forgetSecrets());

  it("kills a tool that outlives its time limit and names it", async () => {
    const started = Date.now();
    const e = await failure(run("sleep", ["37.25"], { timeoutMs: 300 }));
    assert.equal(e.message, "sleep did not finish within 300 ms; it was killed");
    assert.equal(e.where, "sleep 37.25");
    assert.ok(Date.now() - started < 5000);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive("sleep 37.25"), "the timed-out tool is still running");
  });

  it("times out a tool blocked opening a FIFO (as useradd on a FIFO login.defs would be)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flint-safety-tools-fifo-"));
    try {
      execFileSync("mkfifo", [join(dir, "login.defs")]);
      const e = await failure(run("cat", [join(dir, "login.defs")], { timeoutMs: 300 }));
      assert.match(e.message, /^cat did not finish within 300 ms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves a tool that finishes in time alone", async () => {
    assert.equal((await run("sh", ["-c", "sleep 0.1; echo done"], { timeoutMs: 5000 })).stdout, "done\n");
  });

  it("scrubs secret arguments from the tool's message and from the command it names", async () => {
    const hash = "$6$abc:0:0:x";
    const e = await failure(run("sh", ["-c", 'echo "useradd: invalid field \'$2\'" >&2; exit 3', "sh", "--password", hash], { secretArgs: [4] }));
    assert.equal(e.message, "sh failed (exit status 3): useradd: invalid field '<redacted>'");
    assert.ok(!e.where!.includes("abc"), e.where);
  });

  it("scrubs every secret of a remembered config: hashes, contents, data URLs, header values", async () => {
    const contents = "line one\nTOKEN=s3cr3t-value\n";
    rememberConfigSecrets({
      passwd: { users: [{ name: "core", passwordHash: "$y$j9T$salt$hashhash" }] },
      storage: { files: [{ path: "/x", contents: { source: `data:;base64,${Buffer.from(contents).toString("base64")}`, httpHeaders: [{ name: "Authorization", value: "Bearer tok-123" }] } }] },
      systemd: { units: [{ name: "a.service", contents: "[Service]\nEnvironment=PASS=unitsecret\n" }] },
    });
    rememberSecret("fetched-luks-passphrase");
    const said = ["$y$j9T$salt$hashhash", "TOKEN=s3cr3t-value", "Bearer tok-123", "Environment=PASS=unitsecret", "fetched-luks-passphrase"];
    const e = await failure(run("sh", ["-c", 'for s in "$@"; do echo "bad: $s" >&2; done; exit 1', "sh", ...said]));
    for (const s of said) assert.ok(!e.message.includes(s), `${s} leaked: ${e.message}`);
    assert.equal((e.message.match(/<redacted>/g) ?? []).length, said.length, e.message);
  });

  it("does not scrub values too short to be secrets (a locked account's '*')", async () => {
    rememberConfigSecrets({ passwd: { users: [{ name: "core", passwordHash: "*" }] } });
    const e = await failure(run("sh", ["-c", "echo 'a * b' >&2; exit 1"]));
    assert.match(e.message, /a \* b$/);
  });

  it("accepts only absolute paths where a tool takes no '--'", () => {
    assert.deepEqual(absolutePaths("mdadm", ["/dev/md/a", "/dev/loop1"]), ["/dev/md/a", "/dev/loop1"]);
    assert.throws(() => absolutePaths("mdadm", ["/dev/md/a", "--zero-superblock"]), /mdadm operand must be an absolute path \(got "--zero-superblock"\)/);
  });
});

describe("running a tool with a NUL in an argument", () => {
  it("fails naming the tool and the argument, not with Node's TypeError", async () => {
    const e = await failure(run("true", ["ok", "a\u0000b"]));
    assert.equal(e.message, "true: argument 2 contains a NUL character, which no program can take");
  });
});
