// The boot agent and its shell client, outside any initramfs: one
// `flint agent` (the bundle) serves the stage command lines that
// dracut-module/flint-client.sh hands it over FIFOs, as the stage units do
// at boot.

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { useTempRoot } from "../../helpers/root";

const REPO = join(__dirname, "..", "..", "..");
const FLINT = join(REPO, "dist", "flint.js");
const CLIENT = join(REPO, "dracut-module", "flint-client.sh");

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("the boot agent and its stage clients (flint agent, flint-client)", function () {
  this.timeout(60_000);
  let agent: ChildProcess | undefined;
  let agentLog = "";
  afterEach(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill("SIGKILL");
      await exited(agent);
    }
    agent = undefined;
  });
  const t = useTempRoot();
  let dir: string;
  let cache: string;
  let consoleFile: string;

  beforeEach(() => {
    dir = join(t.dir, "agent");
    mkdirSync(dir, { mode: 0o700 });
    execFileSync("mkfifo", ["-m", "0600", join(dir, "requests")]);
    cache = join(t.dir, "config.json");
    consoleFile = join(t.dir, "console");
    agentLog = "";
    agent = spawn(process.execPath, [FLINT, "agent", "--dir", dir], { env: { ...process.env, FLINT_CONSOLE: consoleFile }, stdio: ["ignore", "pipe", "pipe"] });
    agent.stdout!.on("data", (c: Buffer) => (agentLog += c.toString()));
    agent.stderr!.on("data", (c: Buffer) => (agentLog += c.toString()));
  });

  /** Waits (5 s at most) until the agent's own log has a line matching `pattern`. */
  async function logged(pattern: RegExp): Promise<void> {
    for (let i = 0; i < 100 && !pattern.test(agentLog); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(agentLog, pattern);
  }

  /** Runs the client as a stage unit would: its output is the stage's lines. */
  function client(...args: string[]): Promise<{ status: number | null; out: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn("sh", [CLIENT, ...args], { env: { ...process.env, FLINT_AGENT_DIR: dir }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      child.on("error", reject);
      child.on("close", (status) => resolve({ status, out }));
    });
  }

  it("runs the stages in its one process: each client prints its stage's lines and exits with its status; the config is read once", async () => {
    writeFileSync(cache, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/motd", contents: { source: "data:,hello%0A" } }] } }));
    const files = await client("--log-level=debug", "files", "--root", t.root, "--cache", cache);
    assert.equal(files.status, 0, files.out);
    assert.match(files.out, /flint\[info\]: stage files/);
    assert.match(files.out, /create \/etc\/motd/);
    assert.equal(readFileSync(join(t.root, "etc/motd"), "utf8"), "hello\n");
    const umount = await client("--log-level=debug", "umount", "--root", t.root, "--cache", cache);
    assert.equal(umount.status, 0, umount.out);
    assert.match(umount.out, /stage umount/);
    assert.doesNotMatch(umount.out, /stage files/, "a stage's lines reach only its own client");
    assert.match(files.out, /config read from the cache/);
    assert.doesNotMatch(umount.out, /config read from the cache/, "the second stage parsed the config again");
    // Both stages ran in the agent, and recorded into one report. (The
    // agent's own log comes through another pipe: give it a moment.)
    await logged(/stage umount: exit 0/);
    assert.match(agentLog, /stage files: exit 0/);
    const report = JSON.parse(readFileSync(join(t.root, "etc/.flint-result.json"), "utf8")) as { stages: { name: string }[] };
    assert.deepEqual(report.stages.map((s) => s.name), ["files", "umount"]);
    // One reply FIFO per stage, made when missing (the agent unit makes them ahead at boot).
    assert.deepEqual(readdirSync(dir).sort(), ["reply.files", "reply.umount", "requests"]);
  });

  it("a failed stage: the client exits 1 with the error, the console gets the box naming the stage, and the agent serves the next one", async () => {
    writeFileSync(cache, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/bad", contents: { source: "data:,x", verification: { hash: `sha512-${"0".repeat(128)}` } } }] } }));
    const failed = await client("files", "--root", t.root, "--cache", cache);
    assert.equal(failed.status, 1, failed.out);
    assert.match(failed.out, /flint\[error\]: .*storage\.files\.0\.contents/);
    assert.match(readFileSync(consoleFile, "utf8"), /Flint failed in stage: files/);
    assert.equal(existsSync(join(t.root, "etc/bad")), false);
    const usage = await client("files", "--no-such-option");
    assert.equal(usage.status, 2, usage.out);
    assert.match(usage.out, /flint: flint files: /);
    const next = await client("umount", "--root", t.root, "--cache", cache);
    assert.equal(next.status, 0, next.out);
  });

  it("killed with SIGKILL in the middle of a stage: the waiting client fails, naming the stage", async () => {
    let server: Server | undefined;
    let asked!: () => void;
    const request = new Promise<void>((resolve) => (asked = resolve));
    try {
      // A file source that never answers: the stage is surely still running when the agent dies.
      server = createServer(() => asked());
      await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
      writeFileSync(cache, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/slow", contents: { source: url } }] } }));
      const running = client("files", "--root", t.root, "--cache", cache);
      await request;
      agent!.kill("SIGKILL");
      const result = await running;
      assert.equal(result.status, 1, result.out);
      assert.match(result.out, /the Flint agent ended during stage files before it finished/);
      assert.equal(existsSync(join(t.root, "etc/slow")), false);
    } finally {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
  });

  it("a client killed in the middle of its stage: the agent finishes the stage and serves the next client", async () => {
    let server: Server | undefined;
    let pending!: (res: ServerResponse) => void;
    const held = new Promise<ServerResponse>((resolve) => (pending = resolve));
    try {
      server = createServer((_req, res) => pending(res));
      await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
      writeFileSync(cache, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/slow", contents: { source: url } }] } }));
      const child = spawn("sh", [CLIENT, "files", "--root", t.root, "--cache", cache], { env: { ...process.env, FLINT_AGENT_DIR: dir }, stdio: "ignore" });
      const res = await held;
      child.kill("SIGKILL");
      await exited(child);
      // The stage goes on and logs into a reply nobody reads any more.
      res.end("late\n");
      await logged(/stage files: exit 0/);
      assert.equal(readFileSync(join(t.root, "etc/slow"), "utf8"), "late\n");
      const next = await client("umount", "--root", t.root, "--cache", cache);
      assert.equal(next.status, 0, next.out);
      assert.equal(agent!.exitCode, null, "the agent died with its client");
    } finally {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
  });

  it("a client without an agent fails at once and says so", () => {
    const r = spawnSync("sh", [CLIENT, "files"], { env: { ...process.env, FLINT_AGENT_DIR: join(t.dir, "nowhere") }, encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /no Flint agent/);
  });
});
