#!/usr/bin/env node
import { ConfigError, loadConfig, secretValues } from './config/load-config.ts';
import { describeKafkaSecurityError, kafkaSecurity } from './kafka/kafka-client.ts';
import { createLogger, redact } from './ops/logger.ts';
import { replayCommand } from './cli/replay.ts';
import { runCommand } from './cli/run.ts';
import { topicsCommand } from './cli/topics.ts';
import { tailCommand } from './cli/tail.ts';
import { StartupProblem } from './gateway/startup-problem.ts';

const USAGE = `usage: sentio-gateway [run|replay|sim|topics|tail]
  run     (default) stream Polygon minute bars into Kafka; simulator and embedded broker when unconfigured
  replay  publish a recorded engine day (RESULTS_PATH, TRADES_PATH) or a REST day (REPLAY_DATE) into all five topics
  sim     run the Polygon-protocol simulator alone (WebSocket /stocks and REST)
  topics  create the sentio topics on KAFKA_BOOTSTRAP_SERVERS (safe to repeat)
  tail    follow prices.minute.v1 and show the latest bar per symbol
Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'run';
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!['run', 'replay', 'sim', 'topics', 'tail'].includes(command)) {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`sentio-gateway: bad setting ${problem}\n`);
      return 2;
    }
    throw error;
  }
  const { config, secrets } = loaded;
  const log = createLogger({ level: config.logLevel, secrets: secretValues(secrets) });
  const security = kafkaSecurity(config, secrets);
  try {
    switch (command) {
      case 'run':
        return await runCommand(config, secrets);
      case 'replay':
        return await replayCommand(config, secrets, log);
      case 'topics':
        return await topicsCommand(config, log, security);
      case 'tail':
        return await tailCommand({
          brokers: config.kafkaBootstrapServers ?? [`127.0.0.1:${config.embeddedKafkaPort || 9092}`],
          topicPrefix: config.topicPrefix,
          clientId: `${config.kafkaClientId}-tail`,
          backlog: 200,
          log,
          security,
        });
      case 'sim': {
        // Loaded only for this command: the service itself never loads the simulator.
        const { runSimulator } = await import('./sim/command.ts');
        return await runSimulator({
          port: config.simPort,
          apiKey: secrets.polygonApiKey ?? undefined,
          msPerMinute: config.replaySpeedMs,
          startMarketMs: config.simStartMs ?? undefined,
          feedDelayMarketMs: config.simFeedDelayMs,
          log: (line: string) => process.stdout.write(line + '\n'),
        });
      }
    }
  } catch (error) {
    if (error instanceof StartupProblem) {
      process.stderr.write(`sentio-gateway: ${error.message}\n`);
      return 2;
    }
    // Kafka refused our SASL credentials, or TLS failed: a setting to fix, said in one line.
    const kafkaSecurityProblem = describeKafkaSecurityError(error, config);
    if (kafkaSecurityProblem !== null) {
      process.stderr.write(`sentio-gateway: ${redact(kafkaSecurityProblem, secretValues(secrets))}\n`);
      return 2;
    }
    log.fatal({ err: error }, 'gateway failed');
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
