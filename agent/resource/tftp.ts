// A TFTP client (RFC 1350 read requests in octet mode, with the RFC 2348
// blksize option) over UDP, producing the file as a stream of blocks.

import { createSocket, type RemoteInfo } from "node:dgram";
import { Readable } from "node:stream";
import { FlintError } from "../errors";

const OP_RRQ = 1;
const OP_DATA = 3;
const OP_ACK = 4;
const OP_ERROR = 5;
const OP_OACK = 6;
const DEFAULT_BLOCK = 512;
const WANTED_BLOCK = 1428; // fits an Ethernet MTU with IP/UDP/TFTP headers
const RETRANSMIT_MS = 1000;
const MAX_RETRANSMITS = 5;
const DEFAULT_PORT = 69;

export interface TftpOptions {
  label: string;
  signal?: AbortSignal;
}

/** Streams `tftp://host[:port]/path`; errors (not found, timeouts) end the stream with a FlintError. */
export function tftpStream(source: string, options: TftpOptions): Readable {
  const url = new URL(source);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || DEFAULT_PORT);
  const file = decodeURIComponent(url.pathname.replace(/^\//, ""));
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  let blockSize = DEFAULT_BLOCK;
  let expected = 1;
  let peer: { address: string; port: number } | undefined;
  let last: Buffer = request(file);
  let lastTo = { address: host, port };
  let retransmits = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  const stream = new Readable({ read() {} });
  const send = (packet: Buffer, to: { address: string; port: number }) => {
    last = packet;
    lastTo = to;
    socket.send(packet, to.port, to.address);
    clearTimeout(timer);
    timer = setTimeout(retransmit, RETRANSMIT_MS);
  };
  const retransmit = () => {
    if (++retransmits > MAX_RETRANSMITS) return fail(new FlintError(`TFTP: no answer from ${host}:${port} after ${MAX_RETRANSMITS} retransmissions`, options.label));
    socket.send(last, lastTo.port, lastTo.address);
    timer = setTimeout(retransmit, RETRANSMIT_MS);
  };
  const finish = () => {
    finished = true;
    clearTimeout(timer);
    socket.close();
  };
  const fail = (e: Error) => {
    if (finished) return;
    finish();
    stream.destroy(e);
  };

  socket.on("error", (e) => fail(new FlintError(`TFTP: ${e.message}`, options.label)));
  options.signal?.addEventListener("abort", () => fail(new FlintError("TFTP: aborted: the total time limit passed", options.label)), { once: true });
  socket.on("message", (msg: Buffer, from: RemoteInfo) => {
    if (finished || msg.length < 4) return;
    // The server answers from a new port (its transfer id); after the first answer, only that peer counts.
    if (peer && (from.address !== peer.address || from.port !== peer.port)) return;
    peer ??= { address: from.address, port: from.port };
    const op = msg.readUInt16BE(0);
    if (op === OP_ERROR) {
      const code = msg.readUInt16BE(2);
      const text = msg.subarray(4).toString("utf8").replace(/\0.*$/s, "");
      return fail(new FlintError(`TFTP error ${code}${code === 1 ? " (file not found)" : ""}: ${text}`, options.label));
    }
    if (op === OP_OACK) {
      const fields = msg.subarray(2).toString("latin1").split("\0");
      const index = fields.findIndex((f) => f.toLowerCase() === "blksize");
      if (index !== -1) blockSize = Number(fields[index + 1]) || DEFAULT_BLOCK;
      retransmits = 0;
      return send(ack(0), peer);
    }
    if (op !== OP_DATA) return;
    const block = msg.readUInt16BE(2);
    if (block !== (expected & 0xffff)) {
      // A duplicate of an earlier block: acknowledge it again, as RFC 1350 asks.
      if (block === ((expected - 1) & 0xffff)) socket.send(ack(block), peer.port, peer.address);
      return;
    }
    retransmits = 0;
    const data = msg.subarray(4);
    if (data.length > 0) stream.push(Buffer.from(data));
    expected++;
    if (data.length < blockSize) {
      socket.send(ack(block), peer.port, peer.address, () => {
        finish();
        stream.push(null);
      });
      clearTimeout(timer);
      return;
    }
    send(ack(block), peer);
  });
  send(last, lastTo);
  stream.on("close", () => {
    if (!finished) finish();
  });
  return stream;
}

function request(file: string): Buffer {
  const parts = [file, "octet", "blksize", String(WANTED_BLOCK)];
  const head = Buffer.alloc(2);
  head.writeUInt16BE(OP_RRQ);
  return Buffer.concat([head, ...parts.map((p) => Buffer.from(p + "\0", "latin1"))]);
}

function ack(block: number): Buffer {
  const packet = Buffer.alloc(4);
  packet.writeUInt16BE(OP_ACK, 0);
  packet.writeUInt16BE(block, 2);
  return packet;
}
