/** Vitest global setup: builds the viewer page from src/ so the viewer tests serve the current browser code. */
import { buildViewer } from '../../scripts/build-viewer.js';

export default async function setup(): Promise<void> {
  await buildViewer();
}
