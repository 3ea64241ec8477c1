/**
 * `npm run keys:rsa -- <file>`: makes a deployment's MTProto RSA key.
 *
 * Writes a new 2048-bit RSA private key (PKCS#1 PEM, mode 0600; never one whose fingerprint
 * mtcute 0.30 cannot match, see tools/stack/keys.ts) to <file> and prints the public
 * key (the PEM that client builds embed) to stdout. Refuses to
 * overwrite an existing file: replacing a deployment's key locks out every client that embeds
 * the old one. In Kubernetes, store the file as a Secret (deploy/README.md).
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeRsaKey } from '../stack/keys';

function main(): void {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npm run keys:rsa -- <private-key-file>\n');
    process.exit(64);
  }
  if (existsSync(file)) {
    process.stderr.write(`keys:rsa: ${file} exists; not overwriting a deployment key\n`);
    process.exit(1);
  }
  writeRsaKey(file);
  process.stdout.write(
    createPublicKey(readFileSync(file)).export({ type: 'pkcs1', format: 'pem' }).toString(),
  );
  process.stderr.write(`keys:rsa: private key written to ${file} (mode 0600); the public key is above\n`);
}

main();
