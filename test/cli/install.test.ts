// `npm ci` on a fresh clone with the machines' Node 20 stays quiet and leaves the tree clean: the
// packages' engine warnings (EBADENGINE) are below the configured log level, and the bin npm makes
// executable is committed executable.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

describe('installing', () => {
  it('prints errors only: engine warnings and funding or audit banners are off', () => {
    const npmrc = readFileSync(new URL('.npmrc', root), 'utf8');
    expect(npmrc).toMatch(/^loglevel=error$/m);
    expect(npmrc).toMatch(/^fund=false$/m);
    expect(npmrc).toMatch(/^audit=false$/m);
  });

  it('commits the bin executable, as npm leaves it', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      bin: Record<string, string>;
    };
    for (const bin of Object.values(pkg.bin)) {
      expect(statSync(new URL(bin, root)).mode & 0o111, bin).toBe(0o111);
      let staged = '';
      try {
        staged = execFileSync('git', ['ls-files', '-s', bin], { cwd: root, encoding: 'utf8' });
      } catch {
        // Not a git checkout (an unpacked archive): the file's own mode is all there is.
      }
      if (staged !== '') expect(staged.split(' ')[0], bin).toBe('100755');
    }
  });
});
