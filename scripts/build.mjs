// Bundles every functions/<name>/index.ts into dist/<name>/index.mjs for Lambda (nodejs22.x, arm64).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const entries = readdirSync('functions', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join('functions', d.name, 'index.ts')))
  .map((d) => d.name);

for (const name of entries) {
  const result = await build({
    entryPoints: [join('functions', name, 'index.ts')],
    outfile: join('dist', name, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: true,
    metafile: true,
    // ESM bundles of CommonJS dependencies still call require(); give them one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`built dist/${name}/index.mjs (${(bytes / 1024).toFixed(0)} KiB with source map)`);
}
if (entries.length === 0) console.log('no functions/*/index.ts to build yet');
