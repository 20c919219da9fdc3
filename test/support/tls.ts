/**
 * Test certificates made with openssl: a CA, a broker certificate for 127.0.0.1/localhost
 * signed by it, a client certificate for mutual TLS, and a second CA nobody trusts (to show a
 * verification failure). Every file is PEM; keys are unencrypted PKCS#8, as Kafka's PEM
 * keystore and Node's tls both take them.
 *
 *   const tls = await makeTestPki();   // in a fresh temp dir
 *   tls.brokerKeystore                 // key + certificate chain, for ssl.keystore.location
 *   tls.caCert                         // for ssl.truststore.location and KAFKA_SSL_CA_FILE
 *   tls.clientCert, tls.clientKey      // KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  caCert: string;
  /** The broker's key followed by its certificate and the CA's: Kafka's PEM keystore. */
  brokerKeystore: string;
  brokerCert: string;
  brokerKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing the broker uses. */
  otherCaCert: string;
  /** Removes the directory. */
  remove(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir, timeout: 30_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
}

/** A CA (self-signed, 1 day), in `dir`. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A leaf certificate signed by `ca`, with the given extensions. */
async function makeLeaf(dir: string, name: string, ca: string, cn: string, extensions: string): Promise<void> {
  await openssl(dir, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-sha256',
    '-extfile',
    `${name}.ext`,
  ]);
  // OpenSSL 3 writes PKCS#8 already; convert anyway so OpenSSL 1.1 (PKCS#1) gives the same.
  await openssl(dir, ['pkcs8', '-topk8', '-nocrypt', '-in', `${name}.key`, '-out', `${name}.p8.key`]);
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'sentio-pki-'));
  try {
    await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
    await Promise.all([
      makeLeaf(
        dir,
        'broker',
        'ca',
        'localhost',
        'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
      ),
      makeLeaf(
        dir,
        'client',
        'ca',
        'sentio-gateway',
        'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
      ),
    ]);
    const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8');
    const [brokerKey, brokerCert, caCert] = await Promise.all([read('broker.p8.key'), read('broker.pem'), read('ca.pem')]);
    await writeFile(join(dir, 'broker-keystore.pem'), `${brokerKey.trim()}\n${brokerCert.trim()}\n${caCert.trim()}\n`);
    return {
      dir,
      caCert: join(dir, 'ca.pem'),
      brokerKeystore: join(dir, 'broker-keystore.pem'),
      brokerCert: join(dir, 'broker.pem'),
      brokerKey: join(dir, 'broker.p8.key'),
      clientCert: join(dir, 'client.pem'),
      clientKey: join(dir, 'client.p8.key'),
      otherCaCert: join(dir, 'other-ca.pem'),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
