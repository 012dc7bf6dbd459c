/**
 * JetStream partition readers on a real nats-server: a reader whose buffer is full (its owner stopped
 * reading, e.g. after losing the partition's lease) still closes, and a new reader from an offset
 * reads exactly the events after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamSource } from '../../../src/features/stream/jetstream.js';
import type { StreamConfig } from '../../../src/features/definitions/types.js';
import { NATS_SKIP, NatsServer } from '../../helpers/nats-server.js';

describe.skipIf(Boolean(NATS_SKIP))('JetStream partition reader', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    await nats?.close();
  });

  it('a reader with a full buffer that nobody reads closes; a reader from its offset gets the rest, once each', async () => {
    const config = { name: 'full', transport: 'jetstream', partitions: 2, keyField: 'user_id' } as StreamConfig;
    const js = await JetStreamSource.open(config, { natsUrl: nats.url });
    const n = 6000; // more than a reader buffers before it stops pulling
    const events = Array.from({ length: n }, (_, i) => ({
      partition: 1,
      id: `e${i}`,
      event: { user_id: 1, event_id: `e${i}` },
    }));
    await js.publish(events);
    const first = await js.reader(1, null);
    const head: string[] = [];
    while (head.length < 10) {
      for (const r of await first.next(10 - head.length)) head.push(String(r.event.event_id));
      await new Promise((r) => setTimeout(r, 10));
    }
    // let the pump fill its buffer, then close without reading (this used to wait forever)
    await new Promise((r) => setTimeout(r, 300));
    await first.close();

    const offset = (await js.reader(1, null).then(async (rd) => {
      let last: string | null = null;
      let seen = 0;
      while (seen < 10) {
        const got = await rd.next(10 - seen);
        seen += got.length;
        if (got.length) last = got[got.length - 1].offset;
        else await new Promise((r) => setTimeout(r, 10));
      }
      await rd.close();
      return last;
    }))!;
    const rest = await js.reader(1, offset);
    const ids: string[] = [];
    while (ids.length < n - 10) {
      const got = await rest.next(1000);
      for (const r of got) ids.push(String(r.event.event_id));
      if (!got.length) await new Promise((r) => setTimeout(r, 10));
    }
    await rest.close();
    expect(head).toEqual(events.slice(0, 10).map((e) => e.id));
    expect(ids).toEqual(events.slice(10).map((e) => e.id));
    await js.close();
  });
});
