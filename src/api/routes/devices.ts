import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ID_PATTERN, ID_RULE } from '../../domain/ids.js';
import { DeviceExistsError, DeviceRevokedError, type DeviceRecord, type DeviceRegistry } from '../../ports/deviceRegistry.js';
import type { ApiEnv } from '../auth.js';
import { ErrorSchema, errorResponses, notFoundResponse } from '../schemas.js';

const id = z.string().regex(ID_PATTERN, `expected ${ID_RULE}`);
const deviceIdParam = z.object({ deviceId: id.openapi({ param: { name: 'deviceId', in: 'path' }, example: 'car-0001' }) });

const DeviceSchema = z
  .object({
    deviceId: z.string(),
    tenantId: z.string(),
    vehicleId: z.string(),
    driverId: z.string().nullable(),
    policyId: z.string().nullable(),
    createdAtMs: z.number(),
    revokedAtMs: z.number().nullable(),
    previousSecretValidUntilMs: z.number().nullable().openapi({ description: 'the secret before the last rotation is accepted until then' }),
  })
  .openapi('Device');

const CredentialsSchema = z
  .object({ deviceId: z.string(), username: z.string(), password: z.string().openapi({ description: 'shown only this once; tripline keeps a scrypt hash' }) })
  .openapi('DeviceCredentials');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const addDevice = createRoute({
  method: 'post',
  path: '/v1/devices',
  summary: "Register a device in the caller's tenant; returns its MQTT credentials once (scope devices:write)",
  request: {
    body: {
      content: { 'application/json': { schema: z.object({ deviceId: id, vehicleId: id, driverId: id.optional(), policyId: id.optional() }).strict() } },
      required: true,
    },
  },
  responses: { 201: json(CredentialsSchema, 'Created'), 409: json(ErrorSchema, 'The device id is taken (ids are global: they are MQTT client ids)'), ...errorResponses },
});

const listDevices = createRoute({
  method: 'get',
  path: '/v1/devices',
  summary: "The caller's devices, by id (scope devices:write)",
  request: { query: z.object({ after: id.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
  responses: { 200: json(z.object({ devices: z.array(DeviceSchema), nextCursor: z.string().nullable() }), 'A page of devices'), ...errorResponses },
});

const getDevice = createRoute({
  method: 'get',
  path: '/v1/devices/{deviceId}',
  summary: 'One device (scope devices:write)',
  request: { params: deviceIdParam },
  responses: { 200: json(DeviceSchema, 'The device'), ...errorResponses, ...notFoundResponse },
});

const rotateDevice = createRoute({
  method: 'post',
  path: '/v1/devices/{deviceId}/rotate',
  summary: 'A new secret; the old one stays valid for overlapS seconds (scope devices:write)',
  request: {
    params: deviceIdParam,
    body: { content: { 'application/json': { schema: z.object({ overlapS: z.number().min(0).max(30 * 86_400).default(86_400) }).strict() } }, required: false },
  },
  responses: { 200: json(CredentialsSchema, 'The new credentials'), 409: json(ErrorSchema, 'The device is revoked'), ...errorResponses, ...notFoundResponse },
});

const revokeDevice = createRoute({
  method: 'post',
  path: '/v1/devices/{deviceId}/revoke',
  summary: 'Revoke a device for good: its live session is closed and it can no longer connect (scope devices:write)',
  request: { params: deviceIdParam },
  responses: { 200: json(DeviceSchema, 'The revoked device'), ...errorResponses, ...notFoundResponse },
});

const notFound = { error: 'not_found', message: 'no such device' } as const;

/** Device management for an insurer's own tenant; `onRevoked` closes the live session at once. */
export function registerDeviceRoutes(app: OpenAPIHono<ApiEnv>, deps: { registry: DeviceRegistry; onRevoked: (deviceId: string) => void }): void {
  const { registry } = deps;
  app.openapi(addDevice, async (c) => {
    const body = c.req.valid('json');
    try {
      return c.json(await registry.add({ ...body, tenantId: c.get('principal').tenantId }), 201);
    } catch (error) {
      if (error instanceof DeviceExistsError) return c.json({ error: 'conflict', message: `device ${body.deviceId} already exists` }, 409);
      throw error;
    }
  });
  app.openapi(listDevices, async (c) => {
    const { after, limit } = c.req.valid('query');
    const devices = await registry.list(c.get('principal').tenantId, { limit, ...(after ? { afterDeviceId: after } : {}) });
    return c.json({ devices: devices.map(view), nextCursor: devices.length === limit ? devices[devices.length - 1]!.deviceId : null }, 200);
  });
  app.openapi(getDevice, async (c) => {
    const record = await registry.get(c.get('principal').tenantId, c.req.valid('param').deviceId);
    return record ? c.json(view(record), 200) : c.json(notFound, 404);
  });
  app.openapi(rotateDevice, async (c) => {
    const { deviceId } = c.req.valid('param');
    const overlapS = c.req.header('content-type')?.includes('json') ? c.req.valid('json').overlapS : 86_400;
    try {
      const credentials = await registry.rotate(c.get('principal').tenantId, deviceId, overlapS);
      return credentials ? c.json(credentials, 200) : c.json(notFound, 404);
    } catch (error) {
      if (error instanceof DeviceRevokedError) return c.json({ error: 'conflict', message: error.message }, 409);
      throw error;
    }
  });
  app.openapi(revokeDevice, async (c) => {
    const record = await registry.revoke(c.get('principal').tenantId, c.req.valid('param').deviceId);
    if (!record) return c.json(notFound, 404);
    deps.onRevoked(record.deviceId);
    return c.json(view(record), 200);
  });
}

function view(record: DeviceRecord): z.infer<typeof DeviceSchema> {
  return {
    deviceId: record.deviceId,
    tenantId: record.tenantId,
    vehicleId: record.vehicleId,
    driverId: record.driverId ?? null,
    policyId: record.policyId ?? null,
    createdAtMs: record.createdAtMs,
    revokedAtMs: record.revokedAtMs,
    previousSecretValidUntilMs: record.previousSecretValidUntilMs,
  };
}
