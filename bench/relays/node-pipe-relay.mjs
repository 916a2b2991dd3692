// The least a Node relay can do: one hop, no HTTP, each connection piped to the target and back.
// Listens on a free loopback port and prints it. argv: <target port>
import net from "node:net";

const target = Number(process.argv[2]);
const relay = net.createServer((client) => {
  const upstream = net.connect(target, "127.0.0.1");
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
  client.pipe(upstream).pipe(client);
});
relay.listen(0, "127.0.0.1", () => console.log(relay.address().port));
