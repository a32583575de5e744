// A throw-away certificate authority and a server certificate for 127.0.0.1
// and localhost, made with openssl in a temp directory for HTTPS tests.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  /** The CA certificate (PEM): what a config lists in certificateAuthorities. */
  caCert: string;
  /** The server's key and certificate, signed by the CA. */
  key: string;
  cert: string;
}

/** `YYYYMMDDHHMMSSZ` dates, for a server certificate valid only then (openssl 3.0's `x509 -req` cannot set them; `ca` can). */
export interface Validity {
  from: string;
  to: string;
}

const CA_CONFIG = `[ca]
default_ca = local
[local]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
`;

export function makeTestCa(serverValidity?: Validity): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "flint-ca-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Flint test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    const extensions = ["subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:metadata.test", "basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth"];
    if (serverValidity) {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", ...extensions.flatMap((e) => ["-addext", e]));
      writeFileSync(join(dir, "ca.cnf"), CA_CONFIG);
      writeFileSync(join(dir, "index.txt"), "");
      writeFileSync(join(dir, "serial"), "01\n");
      ssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "server.csr", "-out", "server.crt", "-notext", "-startdate", serverValidity.from, "-enddate", serverValidity.to);
    } else {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
      writeFileSync(join(dir, "ext.cnf"), extensions.join("\n") + "\n");
      ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf");
    }
    return {
      caCert: readFileSync(join(dir, "ca.crt"), "utf8"),
      key: readFileSync(join(dir, "server.key"), "utf8"),
      cert: readFileSync(join(dir, "server.crt"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
