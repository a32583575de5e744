// A small forward proxy on 127.0.0.1: absolute-URI requests for http and
// CONNECT tunnels for https. Host names in `hosts` are sent to 127.0.0.1 at
// the given port, so a test can name a target only the proxy can reach.

import { once } from "node:events";
import http from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";

export interface TestProxy {
  url: string;
  /** `GET http://…` or `CONNECT host:port`, in order. */
  seen: string[];
  /** Proxy-Authorization headers received. */
  auth: (string | undefined)[];
  close(): Promise<void>;
}

export async function startProxy(hosts: Record<string, number> = {}): Promise<TestProxy> {
  const seen: string[] = [];
  const auth: (string | undefined)[] = [];
  const sockets = new Set<Socket>();
  const target = (host: string, port: number): { host: string; port: number } => (host in hosts ? { host: "127.0.0.1", port: hosts[host]! } : { host, port });
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    auth.push(req.headers["proxy-authorization"]);
    const url = new URL(req.url ?? "");
    const to = target(url.hostname, Number(url.port || 80));
    if (to.host !== "127.0.0.1") {
      res.statusCode = 502;
      return res.end("this test proxy only reaches 127.0.0.1");
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    const upstream = http.request({ host: to.host, port: to.port, method: req.method, path: url.pathname + url.search, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    auth.push(req.headers["proxy-authorization"]);
    const [host, port] = (req.url ?? "").split(":");
    const to = target(host!, Number(port));
    if (to.host !== "127.0.0.1") {
      client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      return;
    }
    const upstream = net.connect(to.port, to.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    auth,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
