import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { waitForTcp } from '../src/cluster/services/waitForTcp.js';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/tripline.js', import.meta.url));

export { freePort } from '../src/cluster/services/freePort.js';

export function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  return waitForTcp(port, timeoutMs);
}

/** Runs `tripline start` in its own process, as a user would. */
export function startPlatformProcess(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'start', ...args], {
    env: { ...process.env, TRIPLINE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Runs a `tripline` command to completion and returns its standard output; throws with its stderr on failure. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tripline ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}
