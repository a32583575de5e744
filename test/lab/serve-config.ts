// Serves one config file over HTTP, as matchbox or any PXE set-up does, for
// the lab's bare-metal boots. Run it INSIDE the lab's network namespace:
//
//   node --import tsx test/lab/serve-config.ts --address ADDR --port PORT --file FILE [--path /boot.ign]
//
// Prints `ready` on stdout once listening, logs each request on stderr
// (`ADDRESS METHOD URL STATUS`, then `ADDRESS CLIENT CLIENT-ADDRESS`), and
// exits 0 on SIGTERM/SIGINT.

import { readFileSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { address: { type: "string" }, port: { type: "string" }, file: { type: "string" }, path: { type: "string", default: "/boot.ign" } },
  strict: true,
});
if (!values.address || !values.port || !values.file) {
  process.stderr.write("usage: serve-config.ts --address ADDR --port PORT --file FILE [--path /boot.ign]\n");
  process.exit(2);
}
const body = readFileSync(values.file);
const server = http.createServer((req, res) => {
  res.on("finish", () => process.stderr.write(`${values.address} ${req.method} ${req.url} ${res.statusCode}\n${values.address} CLIENT ${req.socket.remoteAddress}\n`));
  if (req.method === "GET" && req.url === values.path) {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(body);
  } else {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("Not Found\n");
  }
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
server.listen(Number(values.port), values.address, () => process.stdout.write("ready\n"));
