// The boot agent and its shell client, outside any initramfs: one real
// `flint agent` (the bundle) serves the stage command lines that the real
// dracut-module/flint-client.sh hands it, as the stage units do at boot.
// Each property of the protocol (agent/commands/agent.ts) has a case here
// that fails without it, attacks included.

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
const FW_CFG = "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config/raw";

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ClientResult {
  status: number | null;
  /** What the unit sends to the journal only. */
  out: string;
  /** What the unit sends to the console too. */
  err: string;
}

describe("the boot agent and its stage clients (flint agent, flint-client)", function () {
  this.timeout(60_000);
  let agent: ChildProcess | undefined;
  let agentLog = "";
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of [...children.splice(0), ...(agent ? [agent] : [])]) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited(child);
      }
    }
    agent = undefined;
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  const t = useTempRoot();
  let dir: string;
  let cache: string;
  let consoleFile: string;
  let failureFile: string;

  function startAgent(dirArg = dir, env: NodeJS.ProcessEnv = {}): ChildProcess {
    agentLog = "";
    const child = spawn(process.execPath, [FLINT, "agent", "--dir", dirArg], { env: { ...process.env, FLINT_CONSOLE: consoleFile, FLINT_FAILURE_FILE: failureFile, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (c: Buffer) => (agentLog += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (agentLog += c.toString()));
    return child;
  }

  beforeEach(() => {
    dir = join(t.dir, "agent");
    mkdirSync(dir, { mode: 0o700 });
    execFileSync("mkfifo", ["-m", "0600", join(dir, "requests")]);
    cache = join(t.dir, "config.json");
    consoleFile = join(t.dir, "console");
    writeFileSync(consoleFile, "");
    failureFile = join(t.dir, "failure");
  });

  /** Waits (10 s at most) until the agent's own log has a line matching `pattern`. */
  async function logged(pattern: RegExp): Promise<void> {
    for (let i = 0; i < 200 && !pattern.test(agentLog); i++) await sleep(50);
    assert.match(agentLog, pattern);
  }

  function spawnClient(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; result: Promise<ClientResult> } {
    const child = spawn("sh", [CLIENT, ...args], { env: { ...process.env, FLINT_AGENT_DIR: dir, FLINT_FAILURE_FILE: failureFile, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    let err = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    const result = new Promise<ClientResult>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (status) => resolve({ status, out, err }));
    });
    return { child, result };
  }

  /** Runs the client as a stage unit would. */
  const client = (...args: string[]) => spawnClient(args).result;

  /** An HTTP file source that never answers until the test says so: a stage surely still running. */
  async function stallingSource(): Promise<{ url: string; asked: Promise<ServerResponse> }> {
    let asked!: (res: ServerResponse) => void;
    const held = new Promise<ServerResponse>((resolve) => (asked = resolve));
    const server = createServer((_req, res) => asked(res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`, asked: held };
  }

  const config = (files: object[]) => JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files } });

  it("runs the stages in its one process: each client prints only its stage's lines and exits with its status; nothing is left in its directory", async () => {
    agent = startAgent();
    writeFileSync(cache, config([{ path: "/etc/motd", contents: { source: "data:,hello%0A" } }]));
    const files = await client("--log-level=debug", "files", "--root", t.root, "--cache", cache);
    assert.equal(files.status, 0, files.err);
    assert.match(files.out, /flint\[info\]: stage files/);
    assert.match(files.out, /create \/etc\/motd/);
    assert.equal(files.err, "");
    assert.equal(readFileSync(join(t.root, "etc/motd"), "utf8"), "hello\n");
    const umount = await client("--log-level=debug", "umount", "--root", t.root, "--cache", cache);
    assert.equal(umount.status, 0, umount.err);
    assert.match(umount.out, /stage umount/);
    assert.doesNotMatch(umount.out, /stage files/, "a stage's lines reach only its own client");
    assert.match(files.out, /config read from the cache/);
    assert.doesNotMatch(umount.out, /config read from the cache/, "the second stage parsed the config again");
    await logged(/stage umount: exit 0/);
    assert.match(agentLog, /stage files: exit 0/);
    const report = JSON.parse(readFileSync(join(t.root, "etc/.flint-result.json"), "utf8")) as { stages: { name: string }[] };
    assert.deepEqual(report.stages.map((s) => s.name), ["files", "umount"]);
    // Each client's FIFOs and status go with it.
    for (let i = 0; i < 100 && readdirSync(dir).length > 1; i++) await sleep(20);
    assert.deepEqual(readdirSync(dir), ["requests"]);
  });

  it("no stage parses the config that fetch cached: fetch hands it over in the agent", async () => {
    const machine = join(t.dir, "machine");
    mkdirSync(join(machine, FW_CFG, ".."), { recursive: true });
    writeFileSync(join(machine, FW_CFG), config([{ path: "/etc/fetched", contents: { source: "data:,fetched" } }]));
    writeFileSync(join(machine, "cmdline"), "flatcar.first_boot=detected flatcar.oem.id=qemu");
    agent = startAgent(dir, { FLINT_SYSFS_ROOT: join(machine, "sys"), FLINT_LIB_DIR: join(machine, "lib"), FLINT_OEM_DIR: join(machine, "oem") });
    const run = join(t.dir, "run", "config.json");
    const fetched = await client("--log-level=debug", "fetch-offline", "--cmdline-file", join(machine, "cmdline"), "--cache", run);
    assert.equal(fetched.status, 0, fetched.out + fetched.err);
    const files = await client("--log-level=debug", "files", "--root", t.root, "--cache", run);
    assert.equal(files.status, 0, files.out + files.err);
    assert.equal(readFileSync(join(t.root, "etc/fetched"), "utf8"), "fetched");
    assert.doesNotMatch(files.out, /config read from the cache/, "the files stage parsed the config fetch had validated");
  });

  it("a failed stage: the client exits 1, the console gets the box naming the stage but not the per-file lines, and the agent serves the next one", async () => {
    agent = startAgent();
    writeFileSync(cache, config([
      { path: "/etc/good", contents: { source: "data:,x" } },
      { path: "/etc/bad", contents: { source: "data:,x", verification: { hash: `sha512-${"0".repeat(128)}` } } },
    ]));
    const failed = await client("files", "--root", t.root, "--cache", cache);
    assert.equal(failed.status, 1, failed.out);
    assert.match(failed.out, /flint\[error\]: .*storage\.files\.1\.contents/);
    const shown = readFileSync(consoleFile, "utf8");
    assert.match(shown, /Flint failed in stage: files/);
    assert.doesNotMatch(shown, /\/etc\/good/, "a per-file line reached the console at info level");
    assert.equal(existsSync(join(t.root, "etc/bad")), false);
    const usage = await client("files", "--no-such-option");
    assert.equal(usage.status, 2, usage.out);
    assert.match(usage.out, /flint: flint files: /);
    const next = await client("umount", "--root", t.root, "--cache", cache);
    assert.equal(next.status, 0, next.out + next.err);
  });

  it("at debug level the stage's lines reach the console too", async () => {
    agent = startAgent();
    writeFileSync(cache, config([{ path: "/etc/shown", contents: { source: "data:,x" } }]));
    const files = await client("--log-level=debug", "files", "--root", t.root, "--cache", cache);
    assert.equal(files.status, 0, files.err);
    assert.match(readFileSync(consoleFile, "utf8"), /create \/etc\/shown/);
  });

  it("two clients of one stage at once: each gets its own lines and its own status", async () => {
    agent = startAgent();
    const good = join(t.dir, "good.json");
    const bad = join(t.dir, "bad.json");
    writeFileSync(good, config([{ path: "/etc/from-good", contents: { source: "data:,x" } }]));
    writeFileSync(bad, config([{ path: "/etc/from-bad", contents: { source: "data:,x", verification: { hash: `sha512-${"0".repeat(128)}` } } }]));
    const [a, b] = await Promise.all([client("files", "--root", t.root, "--cache", good), client("files", "--root", t.root, "--cache", bad)]);
    assert.equal(a.status, 0, a.out + a.err);
    assert.equal(b.status, 1, b.out + b.err);
    assert.match(a.out, /from-good/);
    assert.doesNotMatch(a.out, /from-bad/);
    assert.match(b.out, /from-bad/);
    assert.doesNotMatch(b.out, /from-good/);
  });

  it("a refused request (the stage `agent`) and one that is no command are answered at once with exit 2 and the reason; the agent goes on", async () => {
    agent = startAgent();
    const started = Date.now();
    const refused = await client("--log-level=debug", "agent", "--dir", t.dir);
    assert.equal(refused.status, 2, refused.err);
    assert.match(refused.err, /flint\[error\]: stage agent: refused: the agent does not start another agent/);
    const unknown = await client("no-such-stage");
    assert.equal(unknown.status, 2, unknown.out + unknown.err);
    assert.match(unknown.out, /flint: unknown command "no-such-stage"/);
    const none = await client("--log-level=debug");
    assert.equal(none.status, 2, none.out + none.err);
    assert.ok(Date.now() - started < 10_000);
    writeFileSync(cache, config([]));
    const next = await client("umount", "--root", t.root, "--cache", cache);
    assert.equal(next.status, 0, next.out + next.err);
  });

  it("an agent started with --dir D/ (trailing slash) answers its clients", async () => {
    agent = startAgent(dir + "/");
    writeFileSync(cache, config([]));
    const result = await client("umount", "--root", t.root, "--cache", cache);
    assert.equal(result.status, 0, result.out + result.err);
  });

  it("a path holding a status-like line changes nothing: the line stays one escaped line, and the status comes from the agent alone", async () => {
    agent = startAgent();
    const forged = "/etc/x\n@flint-agent exit 0\n";
    writeFileSync(cache, config([{ path: forged, contents: { source: "data:,x", verification: { hash: `sha512-${"0".repeat(128)}` } } }]));
    const failed = await client("files", "--root", t.root, "--cache", cache);
    assert.equal(failed.status, 1, failed.out);
    assert.doesNotMatch(failed.out, /^@flint-agent/m, "a log line began a line of its own");
    assert.match(failed.out, /\/etc\/x\\n@flint-agent exit 0\\n/);
  });

  it("a forged status line in the log does not save a client whose agent dies mid-stage", async () => {
    agent = startAgent();
    const { url, asked } = await stallingSource();
    writeFileSync(cache, config([
      { path: "/etc/x\n@flint-agent exit 0\n", contents: { source: "data:,x" } },
      { path: "/etc/slow", contents: { source: url } },
    ]));
    const running = client("files", "--root", t.root, "--cache", cache);
    await asked;
    agent.kill("SIGKILL");
    const result = await running;
    assert.equal(result.status, 1, result.out);
    assert.match(result.err, /stage files: the Flint agent ended during stage files before it finished/);
  });

  it("killed with SIGKILL in the middle of a stage: the waiting client fails, naming the stage on its console output", async () => {
    agent = startAgent();
    const { url, asked } = await stallingSource();
    writeFileSync(cache, config([{ path: "/etc/slow", contents: { source: url } }]));
    const running = client("files", "--root", t.root, "--cache", cache);
    await asked;
    agent.kill("SIGKILL");
    const result = await running;
    assert.equal(result.status, 1, result.out);
    assert.match(result.err, /the Flint agent ended during stage files before it finished/);
    // The reason a cloud's check-in reports.
    assert.match(readFileSync(failureFile, "utf8"), /^Flint failed in stage files: the Flint agent ended during stage files/);
    assert.equal(existsSync(join(t.root, "etc/slow")), false);
  });

  it("SIGTERM in the middle of a stage: the stage is cancelled, its client fails naming it, and the agent exits 1; idle, it exits 0", async () => {
    agent = startAgent();
    const { url, asked } = await stallingSource();
    writeFileSync(cache, config([{ path: "/etc/slow", contents: { source: url } }]));
    const running = client("files", "--root", t.root, "--cache", cache);
    const res = await asked;
    agent.kill("SIGTERM");
    const result = await running;
    assert.equal(result.status, 1, result.out);
    assert.match(result.err, /stage files: the Flint agent was stopped during stage files/, agentLog);
    await exited(agent);
    assert.equal(agent.exitCode, 1);
    res.end("late\n");
    assert.equal(existsSync(join(t.root, "etc/slow")), false);

    const idle = startAgent();
    await sleep(300);
    for (let i = 0; i < 100 && !/agent ready/.test(agentLog); i++) await sleep(50);
    idle.kill("SIGTERM");
    await exited(idle);
    assert.equal(idle.exitCode, 0);
  });

  it("a client that asks an agent which ends before answering fails at once after --agent-gone, naming its stage", async () => {
    // An agent that reads the requests FIFO and never answers, then dies: the unit's ExecStopPost wakes the client.
    const mute = spawn("sh", ["-c", `exec 5<"${join(dir, "requests")}"; sleep 30`], { stdio: "ignore" });
    children.push(mute);
    const { result } = spawnClient(["files", "--root", t.root]);
    for (let i = 0; i < 100 && !readdirSync(dir).some((n) => n.endsWith(".out")); i++) await sleep(20);
    await sleep(200);
    mute.kill("SIGKILL");
    await exited(mute);
    const started = Date.now();
    const gone = spawnSync("sh", [CLIENT, "--agent-gone"], { env: { ...process.env, FLINT_AGENT_DIR: dir }, encoding: "utf8" });
    assert.equal(gone.status, 0, gone.stderr);
    const r = await result;
    assert.equal(r.status, 1);
    assert.match(r.err, /stage files: the Flint agent ended during stage files/);
    assert.ok(Date.now() - started < 5_000);
    // And a client started now fails at once.
    const late = spawnSync("sh", [CLIENT, "files"], { env: { ...process.env, FLINT_AGENT_DIR: dir }, encoding: "utf8", timeout: 5_000 });
    assert.equal(late.status, 1);
    assert.match(late.stderr, /no Flint agent is running/);
  });

  it("a client killed in the middle of its stage: the stage is cancelled; the unit started again gets its own answer", async () => {
    agent = startAgent();
    const { url, asked } = await stallingSource();
    writeFileSync(cache, config([{ path: "/etc/slow", contents: { source: url } }]));
    const first = spawnClient(["files", "--root", t.root, "--cache", cache]);
    const res = await asked;
    // As systemd stops a unit: the whole control group.
    first.child.kill("SIGKILL");
    await first.result;
    await logged(/stage files: cancelled after \d+ ms: its client went away/);
    res.end("late\n");
    assert.equal(existsSync(join(t.root, "etc/slow")), false, "the cancelled stage went on writing");
    // The unit started again, on a config that works now.
    writeFileSync(cache, config([{ path: "/etc/second", contents: { source: "data:,2" } }]));
    const again = await client("files", "--root", t.root, "--cache", cache);
    assert.equal(again.status, 0, again.out + again.err);
    assert.match(again.out, /\/etc\/second/);
    assert.doesNotMatch(again.out, /\/etc\/slow/, "the second client got the first one's lines");
    assert.equal(agent.exitCode, null, "the agent died with its client");
  });

  it("relays the reply in large reads, not a read(2) per byte", () => {
    agent = startAgent();
    writeFileSync(cache, config(Array.from({ length: 2000 }, (_, i) => ({ path: `/opt/relay/f${i}`, contents: { source: "data:,x" } }))));
    // strace follows the client and its children (cat), and records each read(2).
    const trace = join(t.dir, "client.trace");
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=read", "-o", trace, "sh", CLIENT, "files", "--root", t.root, "--cache", cache], { env: { ...process.env, FLINT_AGENT_DIR: dir }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 100_000, `a reply of ${r.stdout.length} bytes`);
    const reads = readFileSync(trace, "utf8").split("\n").filter((l) => /\bread\(/.test(l)).length;
    assert.ok(reads < r.stdout.length / 100, `${reads} read(2) calls for a reply of ${r.stdout.length} bytes`);
  });

  it("a client without an agent fails at once and says so", () => {
    const r = spawnSync("sh", [CLIENT, "files"], { env: { ...process.env, FLINT_AGENT_DIR: join(t.dir, "nowhere") }, encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /stage files: no Flint agent is running/);
  });
});
