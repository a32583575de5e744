// Debian's tftpd-hpa (`in.tftpd`) serving a temp directory on 127.0.0.1 at
// a free high port, started in the foreground by the test and stopped after it.

import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestTftp {
  /** The served directory: put files here (world-readable). */
  dir: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Sends a read request for a file that is not there, every 50 ms, until the server answers or `timeoutMs` passes. */
async function answers(port: number, timeoutMs: number): Promise<boolean> {
  const socket = createSocket("udp4");
  const request = Buffer.concat([Buffer.from([0, 1]), Buffer.from("flint-probe-absent\0octet\0")]);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearInterval(ask);
      clearTimeout(limit);
      socket.close();
      resolve(ok);
    };
    socket.on("message", () => done(true));
    socket.on("error", () => undefined); // ICMP "port unreachable" until it binds
    const ask = setInterval(() => socket.send(request, port, "127.0.0.1"), 50);
    const limit = setTimeout(() => done(false), timeoutMs);
    socket.send(request, port, "127.0.0.1");
  });
}

export async function startTftpServer(): Promise<TestTftp> {
  const dir = mkdtempSync(join(tmpdir(), "flint-tftp-"));
  chmodSync(dir, 0o755); // in.tftpd drops to nobody, which must read the files
  const port = await freeUdpPort();
  const child: ChildProcess = spawn("in.tftpd", ["--foreground", "--address", `127.0.0.1:${port}`, "--secure", "--user", "nobody", dir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Ready when it answers a request (with "file not found"); a failed start shows up as an early exit.
  const ready = await Promise.race([answers(port, 10_000), exited.then(() => false)]);
  if (!ready || child.exitCode !== null) {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`in.tftpd did not start: ${stderr.trim() || "no answer"}`);
  }
  return {
    dir,
    port,
    url: `tftp://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
