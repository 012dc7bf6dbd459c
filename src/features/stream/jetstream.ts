/**
 * NATS JetStream transport: one JetStream stream `<name>` (file storage) with subjects
 * `<name>.<partition>`; the offset is the stream sequence. Publishes carry the event id as
 * `Nats-Msg-Id`, so a retried publish inside the server's duplicate window is stored once. A reader
 * is an ephemeral pull consumer (no acks) filtered to the partition's subject, starting at the sequence
 * after its offset: the durable position is the consumer's checkpoint, saved with the window state.
 */
import {
  AckPolicy,
  connect,
  nanos,
  DeliverPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { StrataError } from '../../errors.js';
import type { StreamConfig } from '../definitions/types.js';
import type { PartitionReader, StreamPublish, StreamRecord, StreamSource, StreamSourceOptions } from './contract.js';

/** Records buffered per reader before it stops pulling (back-pressure). */
const READER_BUFFER = 4096;
/** Publishes in flight at once. */
const PUBLISH_WINDOW = 1024;

function unavailable(what: string, err: unknown): StrataError {
  return new StrataError('UNAVAILABLE', `JetStream ${what} failed: ${(err as Error).message}`, {
    cause: err,
    hint: 'check that nats-server runs with -js and the URL is right',
  });
}

export class JetStreamSource implements StreamSource {
  #closed = false;
  private constructor(
    readonly config: StreamConfig,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
  ) {}

  static async open(config: StreamConfig, options: StreamSourceOptions = {}): Promise<JetStreamSource> {
    const servers = options.natsUrl ?? 'nats://127.0.0.1:4222';
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: servers.split(','), timeout: 5000, noAsyncTraces: true });
    } catch (err) {
      throw unavailable(`connection to ${servers}`, err);
    }
    try {
      const jsm = await nc.jetstreamManager();
      const subjects = [`${config.name}.*`];
      try {
        await jsm.streams.info(config.name);
      } catch {
        await jsm.streams.add({ name: config.name, subjects, storage: StorageType.File }).catch(async (err: Error) => {
          // another process created it meanwhile
          await jsm.streams.info(config.name).catch(() => {
            throw err;
          });
        });
      }
      return new JetStreamSource(config, nc, nc.jetstream(), jsm);
    } catch (err) {
      await nc.close();
      throw unavailable(`stream ${config.name}`, err);
    }
  }

  subject(partition: number): string {
    return `${this.config.name}.${partition}`;
  }

  async publish(events: readonly StreamPublish[]): Promise<void> {
    try {
      for (let i = 0; i < events.length; i += PUBLISH_WINDOW) {
        await Promise.all(
          events
            .slice(i, i + PUBLISH_WINDOW)
            .map((e) => this.js.publish(this.subject(e.partition), JSON.stringify(e.event), { msgID: e.id })),
        );
      }
    } catch (err) {
      throw unavailable('publish', err);
    }
  }

  async reader(partition: number, afterOffset: string | null): Promise<PartitionReader> {
    // An ephemeral pull consumer without acks: the position that survives is the checkpoint's offset.
    const subject = this.subject(partition);
    const consumer = await this.jsm.consumers
      .add(this.config.name, {
        filter_subject: subject,
        ack_policy: AckPolicy.None,
        inactive_threshold: nanos(60_000),
        ...(afterOffset === null
          ? { deliver_policy: DeliverPolicy.All }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(afterOffset) + 1 }),
      })
      .then(async (info) => ({ name: info.name, c: await this.js.consumers.get(this.config.name, info.name) }))
      .catch((err: unknown) => {
        throw unavailable(`consumer of ${subject}`, err);
      });
    const messages: ConsumerMessages = await consumer.c.consume({ max_messages: 1024 });
    const buffer: StreamRecord[] = [];
    let failure: unknown;
    let closing = false;
    const pump = (async () => {
      for await (const m of messages) {
        let event: Record<string, unknown>;
        try {
          event = JSON.parse(m.string()) as Record<string, unknown>;
        } catch {
          event = {}; // not JSON: the consumer rejects it as an invalid event
        }
        buffer.push({ partition, offset: String(m.seq), event });
        // back-pressure; a reader closed with a full buffer (a lost partition) must still end the pump
        while (buffer.length >= READER_BUFFER && !closing) await new Promise((r) => setTimeout(r, 5));
        if (closing) break;
      }
    })().then(
      // the iterator also ends when the server drops the consumer: fail, so the owner re-opens it
      () => {
        if (!closing) failure = new Error(`the JetStream consumer of ${subject} stopped delivering`);
      },
      (err: unknown) => (failure = err),
    );
    return {
      next(maxEvents: number): Promise<StreamRecord[]> {
        if (failure) return Promise.reject(unavailable(`read of ${partition}`, failure));
        return Promise.resolve(buffer.splice(0, maxEvents));
      },
      close: async (): Promise<void> => {
        closing = true;
        messages.stop();
        await pump;
        await this.jsm.consumers.delete(this.config.name, consumer.name).catch(() => undefined);
      },
    };
  }

  async size(partition: number): Promise<number> {
    const info = await this.jsm.streams.info(this.config.name, { subjects_filter: this.subject(partition) });
    return info.state.subjects?.[this.subject(partition)] ?? 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.nc.drain().catch(() => this.nc.close());
  }
}
