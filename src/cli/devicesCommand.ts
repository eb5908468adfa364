import type { Command } from 'commander';

export function registerDevicesCommand(_program: Command): void {}
