/**
 * How large one produce request of price records may be.
 *
 * The broker refuses for good a record batch above the topic's `max.message.bytes`, and with
 * one partition a request of price records is one batch. The sink keeps one request in
 * flight (idempotence keeps the order), so the records a request carries, divided by the
 * broker's round trip, is the most the gateway can publish: a request sized to what the topic
 * accepts carries about twice as many bars as a fixed half of Kafka's default did.
 */

/** Kafka's default `max.message.bytes` (broker `message.max.bytes`): 1 MiB plus a record batch's overhead. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * The largest request, whatever the topic allows: the Java producer's default
 * `max.request.size`. Larger requests gained nothing measurable (bench/README.md) and would
 * only hold more bytes in flight.
 */
export const MAX_PRODUCE_REQUEST_BYTES = 1024 * 1024;

/**
 * The share of the limit a request may fill, as the sink counts bytes. Its count errs high for
 * the ASCII the gateway writes (32 bytes a record and 4 a header against about 12 and 2 on the
 * wire); the rest leaves room for the batch and request headers.
 */
const FILL = 15 / 16;

/** Bytes (as the sink counts them) one produce request to a topic with this `max.message.bytes` may carry; `null`: not known, Kafka's default assumed. */
export function produceRequestBytes(topicMaxMessageBytes: number | null): number {
  const limit = topicMaxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  return Math.floor(Math.min(limit, MAX_PRODUCE_REQUEST_BYTES) * FILL);
}
