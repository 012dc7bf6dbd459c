/** Starts a Fastify app listening and names where: the tail the viewer, the monitoring page and the feature server share. */
import type { FastifyInstance } from 'fastify';

export interface ListeningApp {
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
  readonly port: number;
  /** Closes the app. Idempotent; a plain function (safe to destructure). */
  readonly close: () => Promise<void>;
}

/** Listens on `host`:`port` (0: any free port) and returns the URL, the bound port and an idempotent close. */
export async function listenApp(app: FastifyInstance, host: string, port = 0): Promise<ListeningApp> {
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () => (closing ??= app.close()),
  };
}
