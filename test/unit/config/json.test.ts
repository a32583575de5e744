import assert from "node:assert/strict";
import { readJson } from "../../../agent/config/json";
import { BIG_CONFIG_BYTES } from "../../../agent/config/limits";
import { parseJsonText, scanJson } from "../../../agent/config/text";
import { parse } from "./helpers";

const read = (text: string) => readJson(text, 100);

describe("the config's JSON reader", () => {
  const valid = [
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    ' \t\r\n{ "a" : [ ] , "b" : { } }\n',
    '"plain"',
    "[0, -0, 1, -1, 12.5, -0.25, 1e3, 1E-3, 2.5e+10, 9007199254740993, 123456789012345678901234567890, 1e400]",
    '["\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "\\u00e9\\u2603", "\\ud83d\\ude00", "\\udc00 lone", "é ☃ 😀", ""]',
    '{"__proto__": {"x": 1}, "constructor": 2, "toString": 3, "hasOwnProperty": 4}',
    '{"0": "a", "1": "b", "key with spaces and a long name": "a string that is long enough to be a slice"}',
    "[[[[[[[[[[]]]]]]]]]]",
    "null",
    "5",
  ];
  for (const text of valid) {
    it(`reads ${JSON.stringify(text.slice(0, 40))} as JSON.parse does`, () => {
      const got = read(text);
      assert.ok(got.ok);
      assert.deepEqual(got.value, JSON.parse(text));
      assert.deepEqual(got.duplicates, []);
    });
  }

  it("keeps __proto__ an own property and leaves the prototype alone", () => {
    const got = read('{"__proto__": {"polluted": true}}');
    assert.ok(got.ok);
    const value = got.value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal((value as { polluted?: boolean }).polluted, undefined);
  });

  const invalid = [
    "",
    "{",
    '{"a":1,}',
    "[1,]",
    "[,1]",
    '{"a" 1}',
    "{a:1}",
    "{'a':1}",
    "01",
    "1.",
    ".5",
    "+1",
    "-",
    "1e",
    "1e+",
    "0x10",
    "NaN",
    "Infinity",
    "tru",
    "nul",
    '"unterminated',
    '"tab\there"',
    '"new\nline"',
    '"bad \\x escape"',
    '"bad \\u12 escape"',
    '"ends with \\',
    "[1] [2]",
    "[1] x",
    "// comment\n{}",
    "{} /* comment */",
    "[1 2]",
  ];
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(text)}, as JSON.parse does`, () => {
      assert.throws(() => JSON.parse(text));
      assert.equal(read(text).ok, false);
    });
  }

  it("names every key given twice, with its path and offset; the last value is kept", () => {
    const text = '{"a": {"b": 1, "b": 2}, "list": [{"x": 1}, {"x": 2, "y": 3, "x": 4}], "a": {"c": 1}}';
    const got = read(text);
    assert.ok(got.ok);
    assert.deepEqual(got.value, JSON.parse(text));
    assert.deepEqual(
      got.duplicates.map((d) => [d.path, text.slice(d.offset, d.offset + 3)]),
      [
        [["a", "b"], '"b"'],
        [["list", 1, "x"], '"x"'],
        [["a"], '"a"'],
      ],
    );
  });

  it("makes objects of every list of keys as JSON.parse does: many lists, long ones, odd keys, repeats past a few keys", () => {
    const objects: string[] = [];
    // More lists of keys than get a maker of their own (MAX_SHAPES), each seen twice.
    for (let i = 0; i < 300; i++) objects.push(`{"k${i}": ${i}, "n": "v${i}"}`, `{"k${i}": "again", "n": null}`);
    objects.push(
      `{${Array.from({ length: 12 }, (_, i) => `"p${i}": ${i}`).join(", ")}}`,
      `{${Array.from({ length: 20 }, (_, i) => `"q${i}": ${i}`).join(", ")}, "q3": "last", "q19": [1]}`,
      '{"say \\"hi\\"": 1, "back\\\\slash": 2, "\u2028line\u2029": 3, "é☃": 4, "": 5, "1x": 6, "constructor": 7}',
      '{"a": 1, "b": 2, "a": 3}',
      '{"a": 1, "__proto__": 2}',
      '{"x": {"y": {"z": [{"x": 1}, {"x": 2, "w": {"x": 3}}]}}, "y": 4}',
      `{"${"long".repeat(20)}": 1}`,
    );
    const text = `[${objects.join(", ")}]`;
    const got = read(text);
    assert.ok(got.ok);
    assert.deepEqual(got.value, JSON.parse(text));
    for (const [i, value] of (got.value as object[]).entries()) {
      assert.equal(Object.getPrototypeOf(value), Object.prototype, objects[i]);
      assert.deepEqual(Object.keys(value), Object.keys(JSON.parse(objects[i]!) as object), objects[i]);
    }
    assert.deepEqual(
      got.duplicates.map((d) => d.path),
      [
        [601, "q3"],
        [601, "q19"],
        [603, "a"],
      ],
    );
  });

  it("stops at the bracket that opens one level too many", () => {
    const text = "[".repeat(100) + "{" + "]".repeat(100);
    assert.deepEqual(read(text), { ok: false, tooDeepAt: 100 });
    assert.ok(read("[".repeat(100) + "]".repeat(100)).ok);
  });

  it("gives the same config as before for a document with escapes and odd spacing", () => {
    const text = ` {\n "ignition" : { "version" : "3.4.0" } ,\n "storage": {"files": [{"path": "/etc/\\u0061", "contents": {"source": "data:,x%20y"}, "mode": 420}]}}`;
    const parsed = parse(text);
    assert.equal(parsed.config.storage?.files?.[0]?.path, "/etc/a");
    assert.equal(parsed.config.storage?.files?.[0]?.mode, 420);
  });

  it("gives a config over BIG_CONFIG_BYTES (this reader) what a small one gets (JSON.parse and its scans)", () => {
    const pad = "x".repeat(BIG_CONFIG_BYTES);
    const small = '{"a": {"b": 1, "b": [1, 2.5, "\\u00e9"]}, "c": null, "pad": ""}';
    const big = small.replace('"pad": ""', `"pad": "${pad}"`);
    const [s, b] = [parseJsonText(small), parseJsonText(big)];
    assert.ok(s.ok && b.ok);
    assert.deepEqual({ ...(b.value as object), pad: "" }, s.value);
    assert.deepEqual(b.duplicates, s.duplicates);
    const deep = (tail: string) => "[".repeat(101) + "]".repeat(101) + tail;
    const [sd, bd] = [parseJsonText(deep("")), parseJsonText(`[${deep("")}, "${pad}"]`)];
    assert.ok(!sd.ok && !bd.ok);
    assert.equal(sd.issue.message, "JSON nesting is deeper than 100 levels");
    assert.equal(bd.issue.message, sd.issue.message);
    const broken = parseJsonText(`{"pad": "${pad}", "a": [1,]}`);
    assert.ok(!broken.ok);
    assert.match(broken.issue.message, /^invalid JSON: /);
  });

  describe("the scan before JSON.parse (configs up to BIG_CONFIG_BYTES)", () => {
    it("finds the same repeated keys as the one-pass reader, through escapes and at any depth", () => {
      const text = '{"a": {"b": 1, "b": 2}, "list": [{"x": "\\\\"}, {"x": 2, "y": "a\\"b", "\\u0078": 4}], "a": {"c": 1}}';
      const read = readJson(text, 100);
      assert.ok(read.ok);
      assert.deepEqual(scanJson(text), { duplicates: read.duplicates });
      assert.deepEqual(read.duplicates.map((d) => d.path), [["a", "b"], ["list", 1, "x"], ["a"]]);
    });

    it("finds a key repeated in an object of many keys", () => {
      const keys = Array.from({ length: 1000 }, (_, i) => `"k${i}": ${i}`);
      const text = `{${keys.join(", ")}, "k500": 0, "k0": 1}`;
      assert.deepEqual(scanJson(text).duplicates.map((d) => d.path), [["k500"], ["k0"]]);
    });

    it("stops at the bracket that opens one level too many, brackets in strings not counted", () => {
      assert.deepEqual(scanJson("[".repeat(100) + "{" + "]".repeat(100)), { tooDeepAt: 100, duplicates: [] });
      const inStrings = `["${"[".repeat(200)}\\\\", "\\"${"{".repeat(200)}"]`;
      assert.equal(JSON.parse(inStrings).length, 2);
      assert.deepEqual(scanJson(inStrings), { duplicates: [] });
    });

    const broken = ['"unterminated', '{"a": "unterminated', "]]]]}}}", ",,,", '{"a":1}}, "a": 2, {"b": 1', '{"a\\x": 1, "a\\x": 2}', '{"a": 1 "a": 2', "[".repeat(50) + "]".repeat(200) + "[".repeat(150)];
    for (const text of broken) {
      it(`ends without error on ${JSON.stringify(text.slice(0, 30))}, and the config's error is JSON.parse's`, () => {
        assert.throws(() => JSON.parse(text));
        scanJson(text);
        const parsed = parseJsonText(text);
        assert.ok(!parsed.ok);
        assert.match(parsed.issue.message, /^invalid JSON: /);
      });
    }
  });
});
