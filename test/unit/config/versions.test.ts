// What each 3.x spec version adds: accepted from its version on, a warning
// (key dropped) or an error (value not allowed) before it.

import assert from "node:assert/strict";
import { doc, errorLines, parse } from "./helpers";

const SHA256 = "sha256-" + "e".repeat(64);

interface Feature {
  what: string;
  since: string;
  before: string;
  sections: Record<string, unknown>;
  /** How the older version reacts: an unknown-key warning at this path, or an error matching. */
  warnsAt?: string;
  errors?: RegExp;
  /** Checks the parsed model of the newer version. */
  check?: (config: ReturnType<typeof parse>["config"]) => void;
}

const FEATURES: Feature[] = [
  {
    what: "httpHeaders on resources",
    since: "3.1.0",
    before: "3.0.0",
    sections: { storage: { files: [{ path: "/x", mode: 420, contents: { source: "https://example.com/x", httpHeaders: [{ name: "A", value: "b" }] } }] } },
    warnsAt: "storage.files.0.contents.httpHeaders",
    check: (c) => assert.deepEqual(c.storage!.files!.at(0)!.contents!.httpHeaders, [{ name: "A", value: "b" }]),
  },
  { what: "ignition.proxy", since: "3.1.0", before: "3.0.0", sections: { ignition: { proxy: { httpProxy: "http://p:3128", noProxy: ["10.0.0.0/8"] } } }, warnsAt: "ignition.proxy", check: (c) => assert.equal(c.ignition.proxy!.httpProxy, "http://p:3128") },
  { what: "compression on config references", since: "3.1.0", before: "3.0.0", sections: { ignition: { config: { merge: [{ source: "data:,x", compression: "gzip" }] } } }, warnsAt: "ignition.config.merge.0.compression" },
  { what: "sha256 hashes", since: "3.1.0", before: "3.0.0", sections: { storage: { files: [{ path: "/x", mode: 420, contents: { source: "data:,", verification: { hash: SHA256 } } }] } }, errors: /unsupported hash function "sha256" \(spec 3\.0\.0 supports sha512\)/ },
  { what: "partition resize", since: "3.2.0", before: "3.1.0", sections: { storage: { disks: [{ device: "/dev/sda", partitions: [{ label: "root", sizeMiB: 1000, resize: true }] }] } }, warnsAt: "storage.disks.0.partitions.0.resize" },
  { what: "storage.luks", since: "3.2.0", before: "3.1.0", sections: { storage: { luks: [{ name: "v", device: "/dev/sdb", clevis: { tpm2: true } }] } }, warnsAt: "storage.luks", check: (c) => assert.equal(c.storage!.luks![0]!.clevis!.tpm2, true) },
  { what: "users' shouldExist", since: "3.2.0", before: "3.1.0", sections: { passwd: { users: [{ name: "old", shouldExist: false }] } }, warnsAt: "passwd.users.0.shouldExist" },
  { what: "gs:// URLs", since: "3.2.0", before: "3.1.0", sections: { storage: { files: [{ path: "/x", mode: 420, contents: { source: "gs://bucket/object" } }] } }, errors: /unsupported URL scheme "gs"/ },
  { what: "kernelArguments", since: "3.3.0", before: "3.2.0", sections: { kernelArguments: { shouldExist: ["console=ttyS0"] } }, warnsAt: "kernelArguments", check: (c) => assert.deepEqual(c.kernelArguments, { shouldExist: ["console=ttyS0"] }) },
  { what: "filesystem format none", since: "3.3.0", before: "3.2.0", sections: { storage: { filesystems: [{ device: "/dev/sdb", format: "none", wipeFilesystem: true }] } }, errors: /unknown filesystem format "none"/ },
  { what: "arn: URLs", since: "3.4.0", before: "3.3.0", sections: { storage: { files: [{ path: "/x", mode: 420, contents: { source: "arn:aws:s3:::bucket/key" } }] } }, errors: /unsupported URL scheme "arn"/ },
  { what: "luks discard and openOptions", since: "3.4.0", before: "3.3.0", sections: { storage: { luks: [{ name: "v", device: "/dev/sdb", discard: true, openOptions: ["--perf-no_read_workqueue"] }] } }, warnsAt: "storage.luks.0.discard" },
  { what: "tang advertisement", since: "3.4.0", before: "3.3.0", sections: { storage: { luks: [{ name: "v", device: "/dev/sdb", clevis: { tang: [{ url: "http://t", thumbprint: "x", advertisement: "{}" }] } }] } }, warnsAt: "storage.luks.0.clevis.tang.0.advertisement" },
  { what: "luks cex", since: "3.5.0", before: "3.4.0", sections: { storage: { luks: [{ name: "v", device: "/dev/sdb", cex: { enabled: false } }] } }, warnsAt: "storage.luks.0.cex", check: (c) => assert.deepEqual(c.storage!.luks![0]!.cex, { enabled: false }) },
];

describe("spec version features", () => {
  for (const f of FEATURES) {
    describe(`${f.what} (from ${f.since})`, () => {
      it(`is accepted in ${f.since} and in 3.6.0`, () => {
        for (const version of [f.since, "3.6.0"]) {
          const parsed = parse(doc(version, f.sections));
          assert.deepEqual(parsed.warnings.filter((w) => w.message.startsWith("unknown key")), [], version);
          f.check?.(parsed.config);
        }
      });
      if (f.warnsAt) {
        it(`is an unknown key in ${f.before}: a warning naming it, and dropped`, () => {
          const parsed = parse(doc(f.before, f.sections));
          const warning = parsed.warnings.find((w) => w.path.join(".") === f.warnsAt);
          assert.ok(warning, `no warning at ${f.warnsAt}: ${JSON.stringify(parsed.warnings)}`);
          assert.match(warning.message, new RegExp(`needs spec ${f.since.replace(/\./g, "\\.")} or later`));
          assert.ok(warning.line !== undefined);
        });
      } else {
        it(`is an error in ${f.before}`, () => {
          assert.ok(errorLines(doc(f.before, f.sections)).some((l) => f.errors!.test(l)));
        });
      }
    });
  }
});

describe("setuid, setgid and sticky bits (applied from 3.6.0, as in Ignition 2.26)", () => {
  const sections = {
    storage: {
      files: [{ path: "/usr/local/bin/tool", mode: 0o4755 }],
      directories: [{ path: "/tmp2", mode: 0o1777 }],
    },
  };

  for (const version of ["3.0.0", "3.3.0", "3.4.0", "3.5.0"]) {
    it(`are masked off in ${version}, with a warning at each mode's line`, () => {
      const parsed = parse(doc(version, sections));
      assert.equal(parsed.config.storage!.files!.at(0)!.mode, 0o755);
      assert.equal(parsed.config.storage!.directories!.at(0)!.mode, 0o777);
      const warned = parsed.warnings.filter((w) => /setuid, setgid and sticky bits are applied only from spec 3\.6\.0/.test(w.message));
      assert.deepEqual(
        warned.map((w) => w.path.join(".")),
        ["storage.files.0.mode", "storage.directories.0.mode"],
      );
      assert.ok(warned.every((w) => w.line !== undefined && w.column !== undefined));
      assert.match(warned[0]!.message, /mode 04755 is applied as 0755/);
    });
  }

  it("are kept in 3.6.0, without a warning", () => {
    const parsed = parse(doc("3.6.0", sections));
    assert.equal(parsed.config.storage!.files!.at(0)!.mode, 0o4755);
    assert.equal(parsed.config.storage!.directories!.at(0)!.mode, 0o1777);
    assert.deepEqual(parsed.warnings, []);
  });

  it("leave a mode out of range to be an error", () => {
    assert.ok(errorLines(doc("3.3.0", { storage: { files: [{ path: "/x", mode: 0o17777 }] } })).some((l) => /mode must be between 0 and 4095/.test(l)));
  });
});
