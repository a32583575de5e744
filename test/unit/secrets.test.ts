// The secrets scrubbed from tool messages are those of the config being
// applied: an earlier config's short contents must not garble a later run.

import { strict as assert } from "node:assert";
import { forgetSecrets, redact, rememberConfigSecrets, useRunConfigSecrets } from "../../agent/secrets";

describe("secrets of a run", () => {
  afterEach(() => forgetSecrets());

  it("scrubs the run's config values, and no longer an earlier config's", () => {
    rememberConfigSecrets({ storage: { files: [{ path: "/etc/a", contents: { source: "data:,user" } }] } });
    assert.equal(redact("useradd: bad"), "<redacted>add: bad", "the earlier config is scrubbed while it is the one in use");
    useRunConfigSecrets({ passwd: { users: [{ name: "core", passwordHash: "$6$salty$hash" }] } });
    assert.equal(redact("useradd: invalid field '$6$salty$hash'"), "useradd: invalid field '<redacted>'");
  });

  it("scrubs decoded data URL lines, header values and hashes inside a message, the longest first", () => {
    useRunConfigSecrets({
      ignition: { config: { merge: [{ source: "http://x/y", httpHeaders: [{ name: "Authorization", value: "Bearer t0ken" }] }] } },
      storage: { files: [{ path: "/etc/k", contents: { source: "data:,first%20line%0Aapi-key%3Dabcdef%0A" } }] },
      passwd: { users: [{ name: "core", passwordHash: "$6$salt$abcdefgh" }] },
    });
    assert.equal(redact("tool: read 'api-key=abcdef' and sent Bearer t0ken"), "tool: read '<redacted>' and sent <redacted>");
    assert.equal(redact("bad hash $6$salt$abcdefgh!"), "bad hash <redacted>!");
    // Too short to hold a secret: left as it is without looking.
    assert.equal(redact("ok"), "ok");
  });

  it("finds a secret wherever it sits in the message: at its start, at its end, as all of it, with CRLF lines and base64", () => {
    useRunConfigSecrets({
      storage: {
        files: [
          { path: "/etc/a", contents: { source: "data:,%20%20tail-secret%0D%0Ashort%0Dx%0A" } },
          { path: "/etc/b", contents: { source: `data:;base64,${Buffer.from("head-secret\r\nwhole-message\n").toString("base64")}` } },
        ],
      },
    });
    assert.equal(redact("head-secret then tail-secret"), "<redacted> then <redacted>");
    assert.equal(redact("whole-message"), "<redacted>");
    // "short\rx" is one line (a lone CR does not end one), and it is not in the text.
    assert.equal(redact("short and sweet"), "short and sweet");
    assert.equal(redact("short\rx!"), "<redacted>!");
  });
});
