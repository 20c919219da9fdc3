import { randomUUID } from 'node:crypto';
import { createSimClock, startSimulator } from '/work/main/src/sim/index.ts';
import { startTestGateway, uniquePrefix } from '/work/main/test/support/gateway.ts';
const key = `d-${randomUUID()}`;
const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
const sim = await startSimulator({ apiKey: key, clock });
const gw = await startTestGateway({ POLYGON_API_KEY: key, POLYGON_WS_URL: sim.wsUrl, POLYGON_REST_URL: sim.restUrl, KAFKA_BOOTSTRAP_SERVERS: process.env.BS!, TOPIC_PREFIX: uniquePrefix('diag') }, { clock });
await new Promise((r) => setTimeout(r, 3000));
await gw.stop(); await sim.close();
for (const l of gw.logs) { const j = JSON.parse(l); if (!['kafkajs'].includes(j.component)) console.log(j.level, j.component ?? '', j.msg, JSON.stringify(j).slice(0, 250)); }
