import type { DeviceCredentials, DeviceRegistry, NewDevice } from '../ports/deviceRegistry.js';

/**
 * Credentials for simulated devices (the demo fleet, `tripline simulate --register`), obtained
 * the way any device gets them: registered when new, otherwise given a fresh secret, since the
 * old one was shown only once. Revoked devices stay revoked.
 */
export async function ensureDevices(
  registry: DeviceRegistry,
  deviceIds: readonly string[],
  tenantId: string,
  details: (deviceId: string) => Pick<NewDevice, 'driverId' | 'policyId'> = () => ({}),
): Promise<Map<string, DeviceCredentials>> {
  const credentials = new Map<string, DeviceCredentials>();
  for (const deviceId of deviceIds) {
    const existing = await registry.get(null, deviceId);
    if (existing?.revokedAtMs != null) throw new Error(`device ${deviceId} is revoked`);
    if (existing && existing.tenantId !== tenantId) throw new Error(`device ${deviceId} belongs to another tenant`);
    const issued = existing ? await registry.rotate(null, deviceId, 0) : await registry.add({ deviceId, tenantId, vehicleId: deviceId, ...details(deviceId) });
    if (!issued) throw new Error(`device ${deviceId} vanished while registering`);
    credentials.set(deviceId, issued);
  }
  return credentials;
}
