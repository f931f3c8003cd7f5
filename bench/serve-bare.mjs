// The floor of bench/serve.mjs: node:http reading the request body and answering a fixed body —
// nothing any inference server can do less. Same worker model as `ml-core serve` (node:cluster).
//   node bench/serve-bare.mjs PORT [WORKERS]
import cluster from "node:cluster";
import * as http from "node:http";

const port = Number(process.argv[2] ?? 8081);
const workers = Number(process.argv[3] ?? 1);
const BODY = "1,0.25,0.75\n";

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers)) w.kill("SIGTERM");
    process.exit(0);
  });
} else {
  const server = http.createServer((req, res) => {
    req.on("data", () => {});
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "text/csv", "Content-Length": BODY.length });
      res.end(BODY);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, "127.0.0.1");
  process.on("SIGTERM", () => process.exit(0));
}
