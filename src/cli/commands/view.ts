import type { Command } from '../command.js';
import { PORT_NUMBER, int, integerAtLeast, str } from '../command.js';
import { VERSION_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'view',
  summary:
    'Opens a local web page to browse a dataset: thumbnails, video posters with frame scrubbing, labels and boxes drawn over images, filters, paging and "similar images" over an embedding column. Stops on Ctrl-C.',
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: {
    port: {
      type: 'string',
      short: 'p',
      value: 'PORT',
      description: 'port to listen on (default 0: any free port)',
      number: PORT_NUMBER,
    },
    host: { type: 'string', value: 'HOST', description: 'interface to bind (default 127.0.0.1: this machine only)' },
    media: { type: 'string', value: 'COLUMN', description: 'image/video column to show (default: the first one)' },
    embedding: {
      type: 'string',
      value: 'COLUMN',
      description: 'embedding column for "similar" (default: the first one)',
    },
    'page-size': { type: 'string', value: 'N', description: 'rows per page (default 48)', number: integerAtLeast(1) },
    version: VERSION_OPTION,
  },
  examples: ['strata view ./photos.strata --port 8080   # then open http://127.0.0.1:8080'],
  async run(ctx) {
    const ds = await openDataset(ctx, ctx.positionals[0], 'view');
    try {
      const { startViewer } = await import('../../serve/viewer.js');
      const viewer = await startViewer(ds, {
        port: int(ctx, 'port', 'view', 0, 0),
        host: str(ctx, 'host'),
        mediaColumn: str(ctx, 'media'),
        embeddingColumn: str(ctx, 'embedding'),
        pageSize: int(ctx, 'page-size', 'view', 48, 1),
      });
      ctx.out(`viewer: ${viewer.url}/  (${ds.length} rows of ${ds.uri}; Ctrl-C to stop)`);
      if (!isLoopback(str(ctx, 'host')))
        ctx.err(
          `strata: note: the viewer has no authentication and ${str(ctx, 'host')} is reachable from other machines`,
        );
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await viewer.close();
      ctx.err('viewer stopped');
    } finally {
      await ds.close();
    }
  },
};

function isLoopback(host: string | undefined): boolean {
  return host === undefined || host === 'localhost' || host === '::1' || host.startsWith('127.');
}
