// A flood of half-open connections, in its own process so the test's own client is not slowed by it.
// Usage: node http-flood-client.mjs <url> <count> <local address> <deadline ms>
// Prints `{"opened":N,"held":M}` (M: still open or queued on the server) once done and keeps what is still open until it is killed.
import net from "node:net";

const [urlText, countText, localAddress, deadlineText] = process.argv.slice(2);
const url = new URL(urlText);
const count = Number(countText);
const deadline = performance.now() + Number(deadlineText);
const sockets = new Set();

function halfOpen() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress });
    sockets.add(socket);
    socket.once("connect", () => {
      socket.write("GET /api/v1/health HTTP/1.1\r\nHost: flood\r\nX-Slow: ");
      resolve();
    });
    socket.once("error", () => resolve());
    socket.once("close", () => {
      sockets.delete(socket);
      resolve();
    });
  });
}

let opened = 0;
while (opened < count && performance.now() < deadline) {
  const batch = Math.min(500, count - opened);
  await Promise.all(Array.from({ length: batch }, halfOpen));
  opened += batch;
}
await new Promise((resolve) => setTimeout(resolve, 100));
process.stdout.write(JSON.stringify({ opened, held: sockets.size }) + "\n");
setInterval(() => {}, 60_000);
