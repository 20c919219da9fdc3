import { startEmbeddedKafka } from '/work/main/src/dev/embedded-kafka.ts';
const k = await startEmbeddedKafka({ port: 29092 });
console.log('READY', k.bootstrapServers);
await new Promise(() => {});
