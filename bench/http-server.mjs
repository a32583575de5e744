// A static file server for the fetch benchmark, run as its own process so the
// benchmark's timing loop never competes with it for an event loop.
// Serves the files of one directory on 127.0.0.1 (never another address) and
// prints {"port": N} on its first stdout line once it listens.
//
// Usage: node bench/http-server.mjs DIR

import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { basename, join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: node bench/http-server.mjs DIR\n");
  process.exit(2);
}

const server = createServer((req, res) => {
  const name = basename(decodeURIComponent(new URL(req.url, "http://x").pathname));
  const path = join(dir, name);
  let size;
  try {
    size = statSync(path).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
  if (req.method === "HEAD") return void res.end();
  createReadStream(path, { highWaterMark: 1024 * 1024 }).pipe(res);
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
