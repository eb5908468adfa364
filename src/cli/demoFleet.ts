import type { Command } from 'commander';
import type { DeviceRegistry } from '../ports/deviceRegistry.js';
import { ensureDevices } from '../runtime/ensureDevices.js';
import { fleetDeviceIds, runFleet } from '../sim/fleet.js';
import { positiveInt, positiveNumber } from './options.js';

const DEMO_PREFIX = 'demo-';

export interface DemoOptions {
  demo?: boolean;
  vehicles: number;
  speedup: number;
}

/** The demo flags of `start` and `cluster up`. */
export function addDemoOptions(command: Command, demoHelp: string): Command {
  return command
    .option('--demo', demoHelp)
    .option('--vehicles <n>', 'demo fleet size', positiveInt, 20)
    .option('--speedup <x>', 'demo fleet simulated-time speedup', positiveNumber, 10);
}

export interface DemoFleet {
  registry: DeviceRegistry;
  tenantId: string;
  brokerUrl: string;
  vehicles: number;
  speedup: number;
  /** Each car stays under the broker's per-device limit (0 or absent: none). */
  maxMessagesPerS?: number;
  signal: AbortSignal;
}

/**
 * Registers the demo cars (or gives them fresh secrets) and drives them until the signal. Each car
 * has its own driver and policy, so driver figures and policy searches have data. A failure after
 * the signal is the stop itself and is not thrown.
 */
export async function driveDemoFleet(fleet: DemoFleet): Promise<void> {
  try {
    const credentials = await ensureDevices(fleet.registry, fleetDeviceIds(fleet.vehicles, DEMO_PREFIX), fleet.tenantId, (deviceId) => ({
      driverId: deviceId.replace(DEMO_PREFIX, 'driver-'),
      policyId: deviceId.replace(DEMO_PREFIX, 'policy-'),
    }));
    await runFleet({
      brokerUrl: fleet.brokerUrl,
      vehicles: fleet.vehicles,
      speedup: fleet.speedup,
      tripsPerVehicle: Number.POSITIVE_INFINITY,
      deviceIdPrefix: DEMO_PREFIX,
      credentials: (deviceId) => credentials.get(deviceId) ?? {},
      maxMessagesPerS: fleet.maxMessagesPerS,
      signal: fleet.signal,
    });
  } catch (error) {
    if (!fleet.signal.aborted) throw error;
  }
}
