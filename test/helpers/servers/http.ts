// Real HTTP and HTTPS servers on 127.0.0.1 for tests, recording every request.
// A test gives a handler; the server picks a free port and closes in `after`.

import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** When it arrived (performance.now(), ms). */
  at: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => unknown;

export interface TestServer {
  /** `http://127.0.0.1:PORT` (or https). */
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function listen(server: http.Server | https.Server, scheme: string, handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const index = requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, at: performance.now() }) - 1;
    Promise.resolve(handler(req, res, index)).catch((e: Error) => {
      res.statusCode = 599;
      res.end(String(e));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function startHttpServer(handler: Handler): Promise<TestServer> {
  return listen(http.createServer(), "http", handler);
}

export function startHttpsServer(handler: Handler, tls: { key: string; cert: string }): Promise<TestServer> {
  return listen(https.createServer({ key: tls.key, cert: tls.cert }), "https", handler);
}

/** A handler serving fixed paths: `{ "/config.ign": "…" }`; anything else is 404. */
export function routes(table: Record<string, string | Buffer | ((req: IncomingMessage, res: ServerResponse) => void)>): Handler {
  return (req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    const entry = table[path] ?? table[req.url ?? ""];
    if (entry === undefined) {
      res.statusCode = 404;
      res.end("not found");
    } else if (typeof entry === "function") entry(req, res);
    else res.end(entry);
  };
}
