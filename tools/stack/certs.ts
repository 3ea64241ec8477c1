/**
 * Certificates for mutual TLS between Tern processes (services/shared/src/grpc/tls.ts): one CA per
 * deployment and one certificate per process identity, `spiffe://tern/dc/<id>/<service>` or
 * `spiffe://tern/operator`, each in a directory laid out as a Kubernetes TLS Secret (`ca.crt`,
 * `tls.crt`, `tls.key`). The local stack keeps them in `.stack/tls/` (gitignored); the local
 * cluster turns the same directories into Secrets. Made with the machine's `openssl`, EC P-256.
 *
 *   tsx tools/stack/certs.ts <dir> [--dcs 1,2,3] [--rotate]
 *
 * Idempotent: what exists is kept, except that `--rotate` issues every process a new key and
 * certificate from the same CA (running processes read them within a minute).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES } from '../../services/shared/src/config/topology';
import { identityUri, type Identity } from '../../services/shared/src/grpc/access';
import { clientCredentialsFromDir, TLS_FILES } from '../../services/shared/src/grpc/tls';
import type { ChannelCredentials } from '@grpc/grpc-js';

/** Leaf certificates last a year (rotate with --rotate); the CA ten. */
const LEAF_DAYS = 365;
const CA_DAYS = 3650;

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** The directory name of an identity inside a certificates directory (`dc1-messaging`, `operator`). */
export function identityDirName(id: Identity): string {
  return id.kind === 'operator' ? 'operator' : `dc${id.dcId}-${id.service}`;
}

/** Every identity of a deployment of `dcs`: each service of each DC, and the operator. */
export function deploymentIdentities(dcs: readonly number[]): Identity[] {
  return [
    ...dcs.flatMap((dcId) => SERVICE_NAMES.map((service): Identity => ({ kind: 'service', service, dcId }))),
    { kind: 'operator' },
  ];
}

/**
 * Credentials to call a deployment's services as `id`, from the certificates under `dir` (the
 * stack's `tlsDir`): what tests and benches use to make a call as the service that makes it.
 */
export function credentialsAs(dir: string, id: Identity): ChannelCredentials {
  return clientCredentialsFromDir(join(dir, identityDirName(id)));
}

function ensureCa(dir: string): { crt: string; key: string } {
  const ca = { crt: join(dir, 'ca', 'ca.crt'), key: join(dir, 'ca', 'ca.key') };
  if (existsSync(ca.crt) && existsSync(ca.key)) return ca;
  mkdirSync(join(dir, 'ca'), { recursive: true, mode: 0o700 });
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ca.key]);
  openssl([
    'req', '-x509', '-new', '-key', ca.key, '-sha256', '-days', String(CA_DAYS),
    '-subj', '/O=Tern/CN=Tern internal CA', '-out', ca.crt,
  ]); // prettier-ignore
  return ca;
}

/** Issues `id` a new key and certificate signed by the CA into `out` (replaced atomically). */
function issue(ca: { crt: string; key: string }, id: Identity, out: string): void {
  const tmp = `${out}.new`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const key = join(tmp, TLS_FILES.key);
  const csr = join(tmp, 'tls.csr');
  const ext = join(tmp, 'ext.cnf');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  openssl(['req', '-new', '-key', key, '-subj', `/O=Tern/CN=${identityDirName(id)}`, '-out', csr]);
  writeFileSync(
    ext,
    [
      `subjectAltName = URI:${identityUri(id)}`,
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth, clientAuth',
      '',
    ].join('\n'),
  );
  openssl([
    'x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-sha256',
    '-days', String(LEAF_DAYS), '-extfile', ext, '-out', join(tmp, TLS_FILES.cert),
  ]); // prettier-ignore
  writeFileSync(join(tmp, TLS_FILES.ca), readFileSync(ca.crt));
  rmSync(csr);
  rmSync(ext);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
}

/**
 * Makes (or keeps) the CA and a certificate directory per identity of `dcs` under `dir`; with
 * `rotate`, every identity gets a new key and certificate. Returns the directories by identity.
 */
export function ensureCertificates(dir: string, dcs: readonly number[], rotate = false): Map<string, string> {
  const ca = ensureCa(dir);
  const out = new Map<string, string>();
  for (const id of deploymentIdentities(dcs)) {
    const target = join(dir, identityDirName(id));
    if (rotate || !existsSync(join(target, TLS_FILES.cert))) issue(ca, id, target);
    out.set(identityUri(id), target);
  }
  return out;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const dcsArg = args[args.indexOf('--dcs') + 1];
  if (!dir) {
    process.stderr.write('usage: tsx tools/stack/certs.ts <dir> [--dcs 1,2,3] [--rotate]\n');
    process.exit(64);
  }
  const dcs = args.includes('--dcs') && dcsArg ? dcsArg.split(',').map(Number) : [1, 2, 3];
  const made = ensureCertificates(dir, dcs, args.includes('--rotate'));
  process.stdout.write(`${[...made].map(([uri, d]) => `${uri} ${d}`).join('\n')}\n`);
}
