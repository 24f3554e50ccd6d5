// The bulk lifecycle's boundaries, checked in the source: lib/bulk stands on its own (the sink uses it,
// never the other way round), and only unit.ts writes a unit's state.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

describe('lib/bulk', () => {
  it('imports nothing from lib/sink', () => {
    const offending = sources('lib/bulk').filter((file) =>
      /from '\.\.\/sink\//.test(readFileSync(join(root, file), 'utf8')),
    );
    expect(offending).toEqual([]);
  });

  it('changes unit states only in unit.ts: no other code calls the store’s write, create or remove', () => {
    const writers = ['lib', 'functions', 'local']
      .flatMap(sources)
      .filter((file) => file !== 'lib/bulk/unit.ts')
      .filter((file) =>
        /\b(jobs|store)\.(write|create|remove)\(/.test(readFileSync(join(root, file), 'utf8')),
      );
    expect(writers).toEqual([]);
  });
});
