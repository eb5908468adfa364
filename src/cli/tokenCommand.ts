import { InvalidArgumentError, type Command } from 'commander';
import { SCOPES, TENANT_ID, type Scope } from '../api/auth.js';
import { loadConfig, SETTINGS } from '../runtime/config.js';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_FILE, loadOrCreateDevIssuerKey, signDevToken } from '../security/devIssuer.js';
import { positiveInt } from './options.js';

const EXTERNAL_ISSUER_ENV = SETTINGS.oauthIssuer.env;

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a bearer token for the HTTP API, signed by the built-in development issuer')
    .requiredOption('--tenant <id>', 'tenant the token grants access to', tenantId)
    .requiredOption('--scope <scope>', `a scope to grant (${SCOPES.join(', ')}); repeat for more`, collectScope)
    .option('--ttl-s <seconds>', 'lifetime in seconds', positiveInt, 3600)
    .option('--subject <name>', 'who the token is for (its sub claim), for logs')
    .option('--data-dir <dir>', `data folder holding the issuer key (${SETTINGS.dataDir.env})`)
    .addHelpText(
      'after',
      `
Without an external OAuth provider (${EXTERNAL_ISSUER_ENV} unset) the platform accepts
tokens from the development issuer ${DEV_ISSUER}. Its ES256 key lives in
<data dir>/${DEV_ISSUER_FILE}, created on first use by this command or by \`tripline start\`:
use the platform's data folder. Deleting the file invalidates every token it signed. Tokens
name the audience ${SETTINGS.oauthAudience.env} (default ${DEV_AUDIENCE}), as the platform expects.

Scope admin implies every other scope. Only the token and a newline go to stdout:

  curl -H "Authorization: Bearer $(tripline token --tenant demo --scope trips:read)" \\
    http://127.0.0.1:8080/v1/trips

With ${EXTERNAL_ISSUER_ENV} set this command refuses: tokens come from that provider.`,
    )
    .action(async (opts: { tenant: string; scope: Scope[]; ttlS: number; subject?: string; dataDir?: string }) => {
      const config = loadConfig(opts.dataDir ? { dataDir: opts.dataDir } : {});
      if (config.oauthIssuer) throw new Error(`${EXTERNAL_ISSUER_ENV} is set, so the platform only accepts tokens from ${config.oauthIssuer}; get one from that provider`);
      const key = await loadOrCreateDevIssuerKey(config.dataDir);
      const token = await signDevToken(key, { tenantId: opts.tenant, scopes: opts.scope, ttlS: opts.ttlS, subject: opts.subject, audience: config.oauthAudience });
      process.stdout.write(`${token}\n`);
    });
}

function tenantId(value: string): string {
  if (!TENANT_ID.test(value)) throw new InvalidArgumentError('expected 1-64 letters, digits, _ or -');
  return value;
}

/** Repeatable; no default, so commander still insists on at least one. */
function collectScope(value: string, previous: Scope[] | undefined): Scope[] {
  const scope = SCOPES.find((known) => known === value);
  if (!scope) throw new InvalidArgumentError(`expected one of ${SCOPES.join(', ')}`);
  const scopes = previous ?? [];
  return scopes.includes(scope) ? scopes : [...scopes, scope];
}
