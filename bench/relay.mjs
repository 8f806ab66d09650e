// Minimal TCP relay for the benchmark: one process, socket-to-socket pipe, no parsing. It is the
// ceiling any Node proxy can reach on this machine. Usage: node bench/relay.mjs <targetHost> <targetPort>
import net from 'node:net';

const [host, portText] = process.argv.slice(2);
const targetPort = Number(portText);
if (host === undefined || !Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) {
  process.stderr.write('usage: node bench/relay.mjs <targetHost> <targetPort>\n');
  process.exit(2);
}

const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host, port: targetPort, noDelay: true });
  // Either side ending or failing ends both; errors are expected when a benchmark client disconnects.
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
  client.pipe(upstream);
  upstream.pipe(client);
});

server.on('error', (err) => {
  process.stderr.write(`relay: ${err.message}\n`);
  process.exit(1);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close();
    process.exit(0);
  });
}
