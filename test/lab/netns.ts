// A lab without a VM: a network namespace made for one test, with a
// device carrying the fake cloud's real addresses (test/lab/serve-cloud.ts
// runs inside it) and an /etc/hosts of its own for the cloud's host names
// (`ip netns exec` mounts /etc/netns/NAME/hosts over /etc/hosts). Flint runs
// inside it with `run`, reaching the services at their real URLs.
// `close` stops the service and removes the namespace and its files, also
// after a failure.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLOUDS } from "./clouds";

export interface LabOptions {
  /** The fake cloud to serve; none = a namespace where nothing answers. */
  platform?: string;
  userdata?: string | Buffer;
  sshKey?: string;
  hostname?: string;
  scenario?: string;
  /** Objects for the cloud's storage service, by URL (`s3://BUCKET/KEY`…). */
  objects?: Record<string, string | Buffer>;
}

export interface Lab {
  name: string;
  /** A scratch directory for the test (removed by `close`). */
  dir: string;
  /** The CA certificate the HTTPS services are signed with, when there are any. */
  caFile: string;
  /** The services' request log: `ADDRESS METHOD URL STATUS` lines. */
  requests: string[];
  /** Runs the built bundle (dist/flint.js) inside the namespace. */
  flint(args: string[], env?: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

const REPO = join(__dirname, "../..");
export const LAB_DEVICE = "flint0";
let counter = 0;

export async function startLab(options: LabOptions): Promise<Lab> {
  const name = `flint-platforms-${process.pid}-${counter++}`;
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const etc = join("/etc/netns", name);
  const requests: string[] = [];
  let server: ChildProcess | undefined;
  const close = async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
    }
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
    } catch {
      // Never made, or already gone.
    }
    rmSync(etc, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync("ip", ["netns", "add", name], { stdio: ["ignore", "ignore", "pipe"] });
    const hosts = options.platform ? CLOUDS[options.platform]?.hosts ?? {} : {};
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, "hosts"), `127.0.0.1 localhost\n${Object.entries(hosts).map(([host, address]) => `${address} ${host}\n`).join("")}`);
    const inside = (...args: string[]) => execFileSync("ip", ["netns", "exec", name, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    inside("ip", "link", "set", "lo", "up");
    // A veth pair stands for the machine's NIC (no dummy driver here); only
    // LAB_DEVICE keeps IPv6, without duplicate detection, so its link-local
    // address is usable at once.
    inside("ip", "link", "add", LAB_DEVICE, "type", "veth", "peer", "name", `${LAB_DEVICE}p`);
    inside("sysctl", "-qw", `net.ipv6.conf.${LAB_DEVICE}p.disable_ipv6=1`, `net.ipv6.conf.${LAB_DEVICE}.accept_dad=0`);
    inside("ip", "link", "set", `${LAB_DEVICE}p`, "up");
    inside("ip", "link", "set", LAB_DEVICE, "up");
    if (options.platform) {
      const args = ["netns", "exec", name, process.execPath, "--import", "tsx", "test/lab/serve-cloud.ts", "--platform", options.platform, "--dev", LAB_DEVICE, "--ca-out", join(dir, "ca.pem")];
      if (options.userdata !== undefined) {
        writeFileSync(join(dir, "userdata"), options.userdata);
        args.push("--userdata", join(dir, "userdata"));
      }
      if (options.sshKey) args.push("--ssh-key", options.sshKey);
      if (options.hostname) args.push("--hostname", options.hostname);
      if (options.scenario) args.push("--scenario", options.scenario);
      Object.entries(options.objects ?? {}).forEach(([url, contents], i) => {
        writeFileSync(join(dir, `object-${i}`), contents);
        args.push("--object", `${url}=${join(dir, `object-${i}`)}`);
      });
      server = spawn("ip", args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
      server.stderr!.on("data", (d: Buffer) => requests.push(...d.toString().split("\n").filter(Boolean)));
      await new Promise<void>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`serve-cloud did not get ready in 30 s: ${requests.join("\n")}`)), 30_000);
        server!.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("ready\n")) (clearTimeout(timer), resolve());
        });
        server!.once("exit", (code) => (clearTimeout(timer), reject(new Error(`serve-cloud exited ${code}: ${requests.join("\n")}`))));
      });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    name,
    dir,
    caFile: join(dir, "ca.pem"),
    requests,
    close,
    flint: (args, env = {}) =>
      new Promise((resolve) => {
        const child = spawn("ip", ["netns", "exec", name, process.execPath, join(REPO, "dist/flint.js"), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      }),
  };
}
