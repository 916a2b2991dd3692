/**
 * A small HTTP and WebSocket server run inside a sandbox by `/opt/ciab/bin/node` (mounted in every machine), with no
 * dependencies: the page and its relative asset, a streaming echo, a download of N MiB, the request it
 * saw, and a WebSocket echo (one unfragmented frame at a time, enough for the tests).
 */
export const previewAppSource = String.raw`
const http = require("node:http");
const crypto = require("node:crypto");
const port = Number(process.argv[2] || 8080);
const chunk = Buffer.alloc(1024 * 1024, 97);
const server = http.createServer((request, response) => {
  const url = new URL(request.url, "http://x");
  if (url.pathname === "/") {
    response.writeHead(200, { "content-type": "text/html", "set-cookie": ["app=1; Path=/", "ciab_preview=evil; Path=/"] });
    return response.end('<html><link rel="stylesheet" href="style.css"><body>hello preview</body></html>');
  }
  if (url.pathname === "/style.css") return response.writeHead(200, { "content-type": "text/css" }).end("body { color: teal }");
  if (url.pathname === "/seen") {
    return response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ url: request.url, headers: request.headers }));
  }
  if (url.pathname === "/huge-header") return response.writeHead(200, { "x-huge": "h".repeat(40 * 1024) }).end("never seen");
  if (url.pathname === "/echo") {
    response.writeHead(200, { "content-type": "application/octet-stream" });
    return request.pipe(response);
  }
  if (url.pathname === "/bytes") {
    let left = Number(url.searchParams.get("mib") || 1);
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": left * chunk.length });
    const more = () => {
      while (left > 0) {
        left -= 1;
        if (!response.write(chunk)) return response.once("drain", more);
      }
      response.end();
    };
    return more();
  }
  response.writeHead(404).end("no");
});
server.on("upgrade", (request, socket) => {
  const accept = crypto.createHash("sha1").update(request.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n");
  let pending = Buffer.alloc(0);
  socket.on("data", (data) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 6) {
      const opcode = pending[0] & 15;
      const length = pending[1] & 127;
      if (length > 125 || pending.length < 6 + length) return;
      const mask = pending.subarray(2, 6);
      const payload = Buffer.from(pending.subarray(6, 6 + length).map((byte, index) => byte ^ mask[index % 4]));
      pending = pending.subarray(6 + length);
      if (opcode === 8) return socket.end(Buffer.from([0x88, 0]));
      socket.write(Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]));
    }
  });
  socket.on("error", () => {});
});
server.listen(port, "127.0.0.1");
`;
