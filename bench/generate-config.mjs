// Generates Ignition 3.4.0 configs of a given size for the benchmarks.
//
// For N files the config holds:
//   - N files under /bench/dir-K/file-I (K = I mod N/10), small contents as
//     data: URLs (3 in 4 percent-encoded text, 1 in 4 base64), modes cycling
//     through 0644, 0600, 0755, 0640, and every 10th file with a sha512
//     verification hash of its contents;
//   - N/10 directories /bench/dir-K (mode 0755, every other one 0750);
//   - N/10 links /bench/links/link-J: symlinks to files, alternately
//     absolute and relative targets;
//   - N/100 systemd units bench-J.service with contents (every other one
//     enabled), every 4th with a drop-in;
//   - N/1000 users bench-userJ with an SSH key and a (dummy) password hash,
//     unless { users: false } (the files-stage figure writes into an empty
//     root that has no /etc/passwd for useradd).
// Counts round up, so the 100-file config has 1 user and 1 unit.
//
// { shape: "boot" } is the shape of issue 13's side-by-side with Ignition,
// closer to what a machine boots with: the same files, directories and links,
// N/50 units (rounded down), all enabled, and exactly one user with a key.
//
// Usage: node bench/generate-config.mjs N [--no-users|--boot] > config.ign

import { createHash } from "node:crypto";

const MODES = [0o644, 0o600, 0o755, 0o640];

export function generateConfig(n, { users = true, shape = "default" } = {}) {
  const boot = shape === "boot";
  const { directories: dirCount, links: linkCount, units: unitCount, users: userCount } = describeConfig(n, { users, shape });

  const directories = [];
  for (let k = 0; k < dirCount; k++) directories.push({ path: `/bench/dir-${k}`, mode: k % 2 ? 0o750 : 0o755 });

  const files = [];
  for (let i = 0; i < n; i++) {
    const text = `file ${i} of ${n}: the quick brown fox jumps over the lazy dog\n`;
    const source = i % 4 === 3
      ? `data:text/plain;base64,${Buffer.from(text).toString("base64")}`
      : `data:,${encodeURIComponent(text)}`;
    const file = { path: filePath(i, dirCount), mode: MODES[i % MODES.length], contents: { source } };
    if (i % 10 === 0) file.contents.verification = { hash: `sha512-${createHash("sha512").update(text).digest("hex")}` };
    files.push(file);
  }

  const links = [];
  for (let j = 0; j < linkCount; j++) {
    const targetIndex = (j * 7) % n;
    const target = j % 2 ? filePath(targetIndex, dirCount) : `..${filePath(targetIndex, dirCount).slice("/bench".length)}`;
    links.push({ path: `/bench/links/link-${j}`, target });
  }

  const units = [];
  for (let j = 0; j < unitCount; j++) {
    const unit = {
      name: `bench-${j}.service`,
      contents: `[Unit]\nDescription=Benchmark unit ${j}\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n`,
    };
    if (boot || j % 2 === 0) unit.enabled = true;
    if (j % 4 === 0) unit.dropins = [{ name: "10-env.conf", contents: `[Service]\nEnvironment=BENCH=${j}\n` }];
    units.push(unit);
  }

  const userList = [];
  for (let j = 0; j < userCount; j++) {
    userList.push({
      name: `bench-user${j}`,
      // A syntactically plausible SHA-512 crypt string; no one can log in with it.
      passwordHash: `$6$benchsalt${j}$${"x".repeat(86)}`,
      sshAuthorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(j).padStart(43, "A")} bench-user${j}@bench`],
      homeDir: `/home/bench-user${j}`,
      shell: "/bin/sh",
    });
  }

  const config = {
    ignition: { version: "3.4.0" },
    storage: { directories, files, links },
    systemd: { units },
  };
  if (userList.length) config.passwd = { users: userList };
  return config;
}

function filePath(i, dirCount) {
  return `/bench/dir-${i % dirCount}/file-${i}`;
}

export function describeConfig(n, { users = true, shape = "default" } = {}) {
  const boot = shape === "boot";
  return {
    files: n,
    directories: Math.ceil(n / 10),
    links: Math.ceil(n / 10),
    units: boot ? Math.floor(n / 50) : Math.ceil(n / 100),
    users: boot ? 1 : users ? Math.ceil(n / 1000) : 0,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2]);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write("usage: node bench/generate-config.mjs N [--no-users|--boot] > config.ign\n");
    process.exit(2);
  }
  const shape = process.argv.includes("--boot") ? "boot" : "default";
  process.stdout.write(JSON.stringify(generateConfig(n, { users: !process.argv.includes("--no-users"), shape })));
}
