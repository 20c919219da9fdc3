/**
 * Fixture for the watchdog tests: a separate Node process that starts an embedded broker and
 * prints one JSON line `{ pid, watchdogPid, dataDir, bootstrapServers }` on stdout. Then, by mode:
 *   hold     keep running until killed (the test SIGKILLs this process)
 *   exit     process.exit(0) at once, without disposing (the 'exit' hook must kill the JVM)
 *   dispose  dispose the broker and return, letting the event loop drain on its own
 */

import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.ts';

const mode = process.argv[2];
if (mode !== 'hold' && mode !== 'exit' && mode !== 'dispose') {
  process.stderr.write('usage: embedded-kafka-child.ts hold|exit|dispose\n');
  process.exit(2);
}

const broker = await startEmbeddedKafka();
process.stdout.write(
  `${JSON.stringify({
    pid: broker.pid,
    watchdogPid: broker.watchdogPid,
    dataDir: broker.dataDir,
    bootstrapServers: broker.bootstrapServers,
  })}\n`,
);

if (mode === 'hold') {
  setInterval(() => {}, 60_000);
} else if (mode === 'exit') {
  process.exit(0);
} else {
  await broker.dispose();
}
