// Issue 23 class 4: a failure's cleanup always runs. Describing the error
// (finding where in the config it points) reads the config again; when
// that read fails too (the config changed under the run), the first error
// is kept as it is, and the unmount after the failure and the report still
// happen.

import { strict as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../../agent/config/types";
import { describeError } from "../../../agent/errors";
import { runStages } from "../../../agent/stages/run";
import { useTempRoot } from "../../helpers/root";

describe("safety: no error while describing an error (issue 23)", () => {
  const t = useTempRoot();

  it("keeps the stage's error, unmounts and reports when the config cannot be read again", async () => {
    // A directory where the file goes: the files stage fails naming storage.files.0.
    mkdirSync(join(t.root, "etc/taken"));
    const files = [{ path: "/etc/taken", contents: { source: "data:,x" } }];
    /** A config whose files list can be read `allowed` times, then fails, as a changed config file would. */
    const config = (allowed: number, reads: { n: number }): Config => {
      const storage = Object.defineProperty({ filesystems: [] }, "files", {
        enumerable: true,
        get: () => {
          if (++reads.n > allowed) throw new Error("storage.files changed since it was read");
          return files;
        },
      });
      return { ignition: { version: "3.4.0" }, storage } as unknown as Config;
    };
    // How often the run reads the list when nothing changes: the error's description reads it last.
    const counted = { n: 0 };
    const plain = await runStages(config(Infinity, counted), ["mount", "files", "umount"], { root: t.root, dryRun: false });
    assert.match(describeError(plain.error), /storage\.files\.0.*\/etc\/taken exists and is not a regular file/);
    const reads = { n: 0 };
    const { report, error } = await runStages(config(counted.n - 1, reads), ["mount", "files", "umount"], { root: t.root, dryRun: false });
    assert.equal(reads.n, counted.n, "the description read the config again, and failed");
    assert.match(describeError(error), /storage\.files\.0.*\/etc\/taken exists and is not a regular file/);
    assert.deepEqual(report.stages.map((s) => [s.name, s.ok]), [["mount", true], ["files", false], ["umount", true]], JSON.stringify(report.stages));
    assert.equal(report.ok, false);
  });
});
