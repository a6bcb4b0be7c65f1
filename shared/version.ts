/**
 * The product version, read once from package.json so that /openapi.json (and whoever else
 * reports a version) cannot drift from the release. A JSON import with `type: 'json'`: Node's
 * ESM loader (tsx) needs the attribute, and esbuild (wrangler's bundler, scripts/cluster/edge.ts)
 * inlines the file.
 */
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
