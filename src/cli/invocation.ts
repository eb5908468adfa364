import { basename, relative, sep } from 'node:path';

/**
 * The command that runs tripline the way this process was started, for the hints a banner prints:
 * `npx tripline` through a project's node_modules/.bin, `tripline` when installed on the PATH, and
 * otherwise `node` and the script (the container image's entrypoint: `node bin/tripline.js`).
 */
export function invocation(script = process.argv[1] ?? '', cwd = process.cwd()): string {
  if (basename(script) === 'tripline') return script.includes(`${sep}node_modules${sep}.bin${sep}`) ? 'npx tripline' : 'tripline';
  const fromCwd = relative(cwd, script);
  return `node ${fromCwd && !fromCwd.startsWith('..') ? fromCwd : script}`;
}
