// Configs too big to take, and keys given twice.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigInput } from "../../../agent/commands/config-input";
import { formatIssue } from "../../../agent/config/index";
import { MAX_CONFIG_BYTES } from "../../../agent/config/limits";
import { describeError } from "../../../agent/errors";
import { errorLines, parse } from "./helpers";

describe("config size and duplicate keys", () => {
  it("refuses a config over 64 MiB before parsing it", () => {
    const text = `{"ignition":{"version":"3.4.0"},"pad":"${"x".repeat(MAX_CONFIG_BYTES)}"}`;
    assert.match(errorLines(text)[0]!, /^the config is \d+ bytes; the limit is 67108864 bytes \(64 MiB\)$/);
  });

  it("stops reading a file past the limit and names it", () => {
    const dir = mkdtempSync(join(tmpdir(), "flint-safety-root-limits-"));
    try {
      const big = join(dir, "big.ign");
      writeFileSync(big, "");
      truncateSync(big, 200 * 1024 * 1024); // sparse: costs no disk
      let message = "no error";
      try {
        readConfigInput("validate", big);
      } catch (e) {
        message = describeError(e);
      }
      assert.equal(message, `${big}: the config is ${MAX_CONFIG_BYTES + 1} bytes; the limit is 67108864 bytes (64 MiB) (or more)`);
      const small = join(dir, "small.ign");
      writeFileSync(small, '{"ignition":{"version":"3.4.0"}}');
      assert.equal(readConfigInput("validate", small).toString(), '{"ignition":{"version":"3.4.0"}}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("warns about a key given twice in one object, with its path, line and column (only the last value counts)", () => {
    const text = '{\n  "ignition": {"version": "3.4.0"},\n  "storage": {"files": [{"path": "/a", "mode": 420,\n    "mode": 384}]}\n}';
    const parsed = parse(text);
    assert.deepEqual(parsed.warnings.map(formatIssue), ['storage.files.0.mode: duplicate key "mode": only its last value is used (line 4, column 5)']);
    assert.equal(parsed.config.storage!.files!.at(0)!.mode, 384);
  });

  it("finds duplicates at any depth and through escapes, and keys in different objects are not duplicates", () => {
    const text = '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a"},{"path":"/b","p\\u0061th":"/c"}]},"ignition":{"version":"3.4.0"}}';
    const warnings = parse(text).warnings.map((w) => `${w.path.join(".")}: ${w.message}`);
    assert.deepEqual(warnings.filter((w) => w.includes("duplicate")), ['storage.files.1.path: duplicate key "path": only its last value is used', 'ignition: duplicate key "ignition": only its last value is used']);
  });

  it("lists at most 100 duplicate keys and counts the rest", () => {
    let text = '{"ignition":{"version":"3.4.0"}';
    for (let i = 0; i < 10_000; i++) text += `,"ignition":{"version":"3.4.0"}`;
    const duplicates = parse(text + "}").warnings.filter((w) => /duplicate/.test(w.message));
    assert.equal(duplicates.length, 101);
    assert.equal(duplicates.at(-1)!.message, "9900 more duplicate keys not listed");
  });
});
