// The files stage writes entries that the account tools cannot meet while
// useradd runs (stages/files/beside-accounts.ts), and everything else after.
// Watched from inside: a `useradd` first on PATH records what the root holds
// while it runs, waiting (at most 3 s) until a temporary file shows up where
// an independent entry goes, then runs the real useradd.

import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { applyConfig, dataUrl, V, useCapturedLog } from "./run";

const WATCHING_USERADD = `#!/bin/sh
set -eu
root=\${FLINT_TEST_ROOT:?}
for i in $(seq 1 30); do
  if ls -A "$root/opt/tool" 2>/dev/null | grep -q '^\\.flint-tmp-'; then break; fi
  sleep 0.1
done
{
  echo "opt: $(ls -A "$root/opt/tool" 2>/dev/null | tr '\\n' ' ')"
  echo "etc: $(ls -A "$root/etc" | tr '\\n' ' ')"
  echo "srv: $(ls -A "$root/srv" 2>/dev/null | tr '\\n' ' ')"
} >"$FLINT_TEST_SEEN"
exec /usr/sbin/useradd "$@"
`;

describe("files stage: entries written while the accounts are made", () => {
  useCapturedLog();
  const t = useTempRoot();
  let bin: string;
  let savedPath: string | undefined;

  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), "flint-useradd-watch-"));
    writeFileSync(join(bin, "useradd"), WATCHING_USERADD);
    chmodSync(join(bin, "useradd"), 0o755);
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    process.env.FLINT_TEST_ROOT = t.root;
    process.env.FLINT_TEST_SEEN = join(bin, "seen");
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    delete process.env.FLINT_TEST_ROOT;
    delete process.env.FLINT_TEST_SEEN;
    rmSync(bin, { recursive: true, force: true });
  });

  const config = {
    ignition: { version: V },
    passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOk core@x"] }] },
    storage: {
      files: [
        { path: "/opt/tool/run", mode: 0o755, contents: { source: dataUrl("#!/bin/sh\n") } },
        { path: "/etc/motd", contents: { source: dataUrl("hello\n") } },
        { path: "/home/core/.profile", contents: { source: dataUrl("export A=1\n") } },
        { path: "/srv/owned", user: { name: "core" }, contents: { source: dataUrl("mine\n") } },
      ],
    },
  };

  it("writes /opt while useradd runs; /etc, the home and owners by name wait; the tree is the same", async () => {
    await applyConfig(t.root, config);
    const seen = readFileSync(process.env.FLINT_TEST_SEEN!, "utf8");
    assert.match(seen, /^opt: .*\.flint-tmp-/m, seen);
    assert.doesNotMatch(seen, /^etc: .*(motd|\.flint-tmp-)/m, seen);
    assert.match(seen, /^srv: $/m, seen);

    const uid = readFileSync(join(t.root, "etc/passwd"), "utf8").match(/^core:x:(\d+):/m)![1];
    assert.equal(readFileSync(join(t.root, "opt/tool/run"), "utf8"), "#!/bin/sh\n");
    assert.equal(readFileSync(join(t.root, "home/core/.profile"), "utf8"), "export A=1\n");
    assert.match(snapshotTree(t.root).join("\n"), new RegExp(`^file srv/owned 644 ${uid}:`, "m"));
  });

  it("waits for the accounts when a symlink is on the way (it could lead into their trees)", async () => {
    mkdirSync(join(t.root, "data"));
    symlinkSync("/data", join(t.root, "opt"));
    await applyConfig(t.root, config);
    const seen = readFileSync(process.env.FLINT_TEST_SEEN!, "utf8");
    // Nothing was written through /opt while useradd ran.
    assert.match(seen, /^opt: $/m, seen);
    assert.equal(readFileSync(join(t.root, "data/tool/run"), "utf8"), "#!/bin/sh\n");
  });
});
