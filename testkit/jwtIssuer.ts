import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface IssuerKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** A real OpenID provider on a local port: discovery and key set over HTTP, counting what it serves. */
export interface TestIssuer {
  /** The issuer identifier, `http://127.0.0.1:<port>`. */
  issuer: string;
  jwksUrl: string;
  /** The key `sign` uses by default; `rotate` replaces it. */
  key: IssuerKey;
  requests: { discovery: number; jwks: number };
  /** false: every request gets 503, as during an outage. */
  available: boolean;
  /** The issuer named in the discovery document; a misconfigured provider names another. */
  namedIssuer: string;
  /** Publishes a new signing key next to the old one and signs with it from now on. */
  rotate: () => Promise<IssuerKey>;
  /** Signs exactly these claims; the header names `kid` (the key's own unless given). */
  sign: (claims: JWTPayload, options?: { key?: IssuerKey; kid?: string }) => Promise<string>;
  close: () => Promise<void>;
}

export async function newIssuerKey(alg: IssuerKey['alg'] = 'RS256'): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const published: IssuerKey[] = [await newIssuerKey()];
  const server = createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration') {
      issuer.requests.discovery += 1;
      if (!issuer.available) return send(503, { error: 'down' });
      return send(200, {
        issuer: issuer.namedIssuer, jwks_uri: issuer.jwksUrl, id_token_signing_alg_values_supported: ['RS256'],
        authorization_endpoint: `${url}/authorize`, token_endpoint: `${url}/token`, code_challenge_methods_supported: ['S256'],
      });
    }
    if (request.url === '/jwks.json') {
      issuer.requests.jwks += 1;
      if (!issuer.available) return send(503, { error: 'down' });
      return send(200, { keys: published.map((key) => key.publicJwk) });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const issuer: TestIssuer = {
    issuer: url,
    jwksUrl: `${url}/jwks.json`,
    key: published[0]!,
    requests: { discovery: 0, jwks: 0 },
    available: true,
    namedIssuer: url,
    rotate: async () => {
      const key = await newIssuerKey();
      published.unshift(key);
      issuer.key = key;
      return key;
    },
    sign: (claims, options = {}) => {
      const key = options.key ?? issuer.key;
      return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return issuer;
}
