// The command line's fast path (cli.ts plainArgs) against util.parseArgs in
// strict mode: the same values and positionals where it parses, and
// parseArgs (its result or its error) wherever it steps aside.

import assert from "node:assert/strict";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseCommandArgs, plainArgs } from "../../agent/cli";
import { UsageError } from "../../agent/errors";

type Options = NonNullable<ParseArgsConfig["options"]>;

const options: Options = {
  json: { type: "boolean" },
  config: { type: "string" },
  "files-dir": { type: "string" },
  device: { type: "string", multiple: true },
  flag: { type: "boolean", multiple: true },
};

const argvs: string[][] = [
  [],
  ["a.ign"],
  ["a.ign", "b.ign", "c"],
  ["--json", "a.ign"],
  ["a.ign", "--json"],
  ["--config", "c.ign", "--files-dir", "/d"],
  ["--config=c.ign", "x"],
  ["--config=", "x"],
  ["--config=--odd", "x"],
  ["--config=a=b"],
  ["--device", "/dev/a", "--device=/dev/b", "--flag", "--flag"],
  ["--config", "a", "--config", "b"],
  ["--json", "--json"],
  ["é", "--config", "ü ñ"],
  ["--config"],
  ["--config", "--json"],
  ["--config", "-"],
  ["--json=1"],
  ["--json=", "x"],
  ["--nope"],
  ["--nope=1"],
  ["-j"],
  ["-"],
  ["--"],
  ["--", "--json"],
  ["a", "--", "-b"],
  ["--__proto__"],
  ["--constructor", "x"],
  ["--toString"],
];

function viaParseArgs(argv: string[], opts: Options) {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: opts, allowPositionals: true, strict: true });
    return { values: { ...values }, positionals, prototype: Object.getPrototypeOf(values) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe("command-line arguments", () => {
  for (const argv of argvs) {
    it(`parses ${JSON.stringify(argv)} as util.parseArgs does`, () => {
      const expected = viaParseArgs(argv, options);
      const fast = plainArgs(argv, options);
      if (fast) assert.deepEqual({ values: { ...fast.values }, positionals: fast.positionals, prototype: Object.getPrototypeOf(fast.values) }, expected);
      let got;
      try {
        const { values, positionals } = parseCommandArgs("test", argv, options, { min: 0, max: Infinity });
        got = { values: { ...values }, positionals, prototype: Object.getPrototypeOf(values) };
      } catch (e) {
        assert.ok(e instanceof UsageError);
        got = { error: e.message.replace(/^flint test: /, "") };
      }
      assert.deepEqual(got, expected);
    });
  }

  it("leaves options with defaults to util.parseArgs", () => {
    assert.equal(plainArgs(["x"], { level: { type: "string", default: "info" } }), undefined);
  });

  it("takes the usual command lines itself", () => {
    for (const argv of [["a.ign"], ["--json", "a", "b"], ["--config", "c.ign", "--files-dir=/d"], ["--device", "/dev/a", "--device", "/dev/b"]]) assert.ok(plainArgs(argv, options), JSON.stringify(argv));
  });
});
