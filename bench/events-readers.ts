// Reads one session's events with N concurrent SSE readers in this process, apart from the server's, and
// prints { outputs, gaps, firstOutputAt, lastAt } per reader as one JSON line. Used by events-throughput.bench.ts.
import { Ciab } from "../packages/sdk/src/index.js";

const [url, token, sessionID, readerCount] = process.argv.slice(2);
const ciab = new Ciab({ url: url!, token: token! });
const results = await Promise.all(
  Array.from({ length: Number(readerCount) }, async () => {
    let outputs = 0;
    let last = 0;
    let gaps = 0;
    let firstOutputAt = 0;
    for await (const event of ciab.sessions.follow(sessionID!)) {
      if (event.seq !== last + 1) gaps += 1;
      last = event.seq;
      if (event.type === "shell.output") {
        outputs += 1;
        if (firstOutputAt === 0) firstOutputAt = performance.now();
      }
    }
    return { outputs, gaps, firstOutputAt, lastAt: performance.now() };
  }),
);
process.stdout.write(`${JSON.stringify(results)}\n`);
