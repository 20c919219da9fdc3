import type { GatewayConfig, GatewaySecrets } from '../config/config.ts';
import { startGateway } from '../gateway/start-gateway.ts';

/**
 * `sentio-gateway run`: the long-running service. SIGTERM or SIGINT stops reading, flushes
 * Kafka, publishes the `stopped` heartbeat and exits 0 (1 if records were left unsent).
 */
export async function runCommand(config: GatewayConfig, secrets: GatewaySecrets): Promise<number> {
  const gateway = await startGateway(config, secrets);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  gateway.log.info({ signal }, 'signal received');
  // A second signal while draining means "now": exit without waiting for the flush.
  const forceExit = (): never => process.exit(1);
  process.once('SIGTERM', forceExit);
  process.once('SIGINT', forceExit);
  const { unsent } = await gateway.shutdown();
  return unsent === 0 ? 0 : 1;
}
