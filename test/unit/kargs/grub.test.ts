// kernelArguments in grub.cfg (Flatcar's linux_append lines) and the reboot decision.

import assert from "node:assert/strict";
import { appendedArguments, editGrubConfig, rebootNeeded } from "../../../agent/stages/kargs/grub";
import { kernelArgumentsChange } from "../../../agent/stages/kargs/index";

const FLATCAR = 'set linux_console="console=ttyS0,115200n8"\nset linux_append="$linux_append flatcar.autologin"\n';

describe("kargs: grub.cfg edits", () => {
  it("adds each wanted argument on a line of its own, after what is there", () => {
    const edit = editGrubConfig(FLATCAR, { shouldExist: ["example", "foo=bar baz", 'q="x"'] });
    // GRUB escapes the quotes; the kernel then sees foo="bar baz" (one argument) and q="x" (q=x).
    assert.equal(edit.text, FLATCAR + 'set linux_append="$linux_append example"\nset linux_append="$linux_append foo=\\"bar baz\\""\nset linux_append="$linux_append q=\\"x\\""\n');
    assert.deepEqual(edit.added, ["example", "foo=bar baz", 'q="x"']);
    assert.deepEqual(appendedArguments(edit.text), ["flatcar.autologin", "example", "foo=bar baz", "q=x"]);
    assert.deepEqual(editGrubConfig(edit.text, { shouldExist: ["foo=bar baz", 'q="x"'] }).added, []);
  });

  it("is idempotent: a second edit changes nothing", () => {
    const wanted = { shouldExist: ["a", "b=1", "c=x y"], shouldNotExist: ["flatcar.autologin"] };
    const once = editGrubConfig(FLATCAR, wanted);
    const twice = editGrubConfig(once.text, wanted);
    assert.equal(twice.text, once.text);
    assert.deepEqual([twice.added, twice.removed], [[], []]);
  });

  it("removes unwanted arguments from linux_append lines, keeping the rest of a line and dropping an emptied one", () => {
    const text = 'set linux_append="$linux_append a b"\nif [ x ]; then\n  set linux_append="$linux_append c"\nfi\nset linux_append="$linux_append c"\n';
    const edit = editGrubConfig(text, { shouldNotExist: ["b", "c", "zzz"] });
    assert.equal(edit.text, 'set linux_append="$linux_append a"\nif [ x ]; then\n  set linux_append="$linux_append c"\nfi\n');
    assert.deepEqual(edit.removed, ["b", "c"]);
    assert.deepEqual(edit.notHere, ["zzz"]);
  });

  it("leaves an already satisfied file byte for byte, and starts a missing one", () => {
    assert.equal(editGrubConfig(FLATCAR, { shouldExist: ["flatcar.autologin"], shouldNotExist: ["x"] }).text, FLATCAR);
    assert.equal(editGrubConfig("", { shouldExist: ["x"] }).text, 'set linux_append="$linux_append x"\n');
    assert.equal(editGrubConfig("set timeout=1", { shouldExist: ["x"] }).text, 'set timeout=1\nset linux_append="$linux_append x"\n');
  });
});

describe("kargs: when to reboot", () => {
  it("reboots only when this boot changed grub.cfg and the running command line lacks an argument", () => {
    assert.equal(rebootNeeded(true, { shouldExist: ["a"] }, ["root=/dev/sda"]), true);
    assert.equal(rebootNeeded(true, { shouldNotExist: ["b"] }, ["b"]), true);
    // Already running with it (the file was behind): no reboot needed.
    assert.equal(rebootNeeded(true, { shouldExist: ["a"], shouldNotExist: ["b"] }, ["a"]), false);
    // The file already had it but the command line lacks it (a loader that ignores grub.cfg): no loop.
    assert.equal(rebootNeeded(false, { shouldExist: ["a"] }, []), false);
  });

  it("computes what the running command line lacks", () => {
    assert.deepEqual(kernelArgumentsChange({ shouldExist: ["a", "b", "a"], shouldNotExist: ["c", "d"] }, ["b", "c"]), { add: ["a"], remove: ["c"] });
  });
});
