import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { isBlank, notIgnitionKind } from "../../../agent/stages/fetch/user-data";

const kind = (text: string | Buffer) => notIgnitionKind(Buffer.isBuffer(text) ? text : Buffer.from(text));

const MIME = [
  'Content-Type: multipart/mixed; boundary="==BOUNDARY=="',
  "MIME-Version: 1.0",
  "",
  "--==BOUNDARY==",
  'Content-Type: text/cloud-config; charset="us-ascii"',
  "",
  "#cloud-config",
  "hostname: x",
  "--==BOUNDARY==--",
  "",
].join("\r\n");

describe("user data that is not an Ignition config (Flatcar's rules)", () => {
  it("#cloud-config as the whole first line, trailing blanks and CR allowed", async () => {
    assert.equal(await kind("#cloud-config\nhostname: x\n"), "cloud-config");
    assert.equal(await kind("#cloud-config  \r\nusers: []\r\n"), "cloud-config");
    assert.equal(await kind("#cloud-config"), "cloud-config");
  });

  it("not a first line that only starts with #cloud-config, nor one after a blank line", async () => {
    assert.equal(await kind("#cloud-config-archive\n- a\n"), undefined);
    assert.equal(await kind(" #cloud-config\n"), undefined);
    assert.equal(await kind("\n#cloud-config\n"), undefined);
  });

  it("a script: the first line starts with #!", async () => {
    assert.equal(await kind("#!/bin/bash\necho hi\n"), "script");
    assert.equal(await kind("#! /usr/bin/env python3\n"), "script");
  });

  it("MIME multipart/mixed, whatever the order of the headers, with LF or CRLF", async () => {
    assert.equal(await kind(MIME), "MIME multipart");
    assert.equal(await kind('MIME-Version: 1.0\nContent-Type: multipart/mixed;\n boundary="b"\n\n--b\n'), "MIME multipart");
    assert.equal(await kind('content-type: multipart/mixed; boundary="b"\n\nbody'), "MIME multipart");
  });

  it("not MIME: another content type, headers that never end, a malformed header, a first line that is a continuation", async () => {
    assert.equal(await kind("Content-Type: text/plain\n\nhello"), undefined);
    assert.equal(await kind("Content-Type: multipart/mixed; boundary=b\n"), undefined);
    assert.equal(await kind("Content-Type: multipart/mixed\nnot a header\n\n"), undefined);
    assert.equal(await kind("Bad Name: x\nContent-Type: multipart/mixed\n\n"), undefined);
    assert.equal(await kind(" Content-Type: multipart/mixed\n\n"), undefined);
  });

  it("looks inside gzip, as Flatcar does", async () => {
    assert.equal(await kind(gzipSync("#cloud-config\nhostname: x\n")), "cloud-config");
    assert.equal(await kind(gzipSync("#!/bin/sh\n")), "script");
    assert.equal(await kind(gzipSync(MIME)), "MIME multipart");
    // A gzip header on data that does not decompress is read as it is.
    assert.equal(await kind(Buffer.from([0x1f, 0x8b, 1, 2, 3])), undefined);
  });

  it("leaves Ignition configs (and anything else) to the parser", async () => {
    assert.equal(await kind('{"ignition":{"version":"3.4.0"}}'), undefined);
    assert.equal(await kind('{\n  "ignition": { "version": "3.4.0" }\n}\n'), undefined);
    assert.equal(await kind("variant: flatcar\nversion: 1.0.0\n"), undefined);
    assert.equal(await kind(""), undefined);
  });

  it("counts empty or blank user data as no user config", () => {
    assert.equal(isBlank(Buffer.alloc(0)), true);
    assert.equal(isBlank(Buffer.from(" \r\n\t\n")), true);
    assert.equal(isBlank(Buffer.from("\n{}")), false);
  });
});
