import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchToBuffer, fetchToFile } from "../../../agent/resource/index";
import { startTftpServer, type TestTftp } from "../../helpers/servers/tftp";

describe("fetching over TFTP from Debian's tftpd-hpa on 127.0.0.1", () => {
  let server: TestTftp;
  let out: string;
  before(async () => {
    server = await startTftpServer();
  });
  after(async () => {
    await server?.close();
  });
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), "flint-tftp-out-"));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  const put = (name: string, data: Buffer | string) => {
    writeFileSync(join(server.dir, name), data);
    chmodSync(join(server.dir, name), 0o644);
  };

  it("reads a small config in one block", async () => {
    put("small.ign", '{"ignition":{"version":"3.4.0"}}');
    assert.equal((await fetchToBuffer({ source: `${server.url}/small.ign` })).toString(), '{"ignition":{"version":"3.4.0"}}');
  });

  it("streams a file of many blocks (and an exact multiple of the block size) to disk with a verified hash", async () => {
    for (const size of [300 * 1024 + 17, 1428 * 64]) {
      const data = randomBytes(size);
      put(`blob-${size}`, data);
      const dest = join(out, `blob-${size}`);
      const hash = "sha512-" + createHash("sha512").update(data).digest("hex");
      const { bytes } = await fetchToFile({ source: `${server.url}/blob-${size}`, verification: { hash } }, dest);
      assert.equal(bytes, size);
      assert.ok(readFileSync(dest).equals(data));
    }
  });

  it("reports a missing file with the server's error", async () => {
    await assert.rejects(fetchToBuffer({ source: `${server.url}/nope.ign` }), /TFTP error 1 \(file not found\)/);
  });
});
