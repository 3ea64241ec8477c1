import { Writable } from 'node:stream';
import { createLogger, maskPhones } from './logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', base: { service: 't' }, destination }) };
}

describe('logger redaction', () => {
  it('masks phone numbers in messages and fields', () => {
    const { lines, log } = capture();
    log.info({ phone: '+9996621234', note: 'user 9996621234 signed in' }, 'code sent to 9996621234');
    const out = lines.join('');
    expect(out).not.toContain('9996621234');
    expect(out).toContain('…34');
  });

  it('censors secrets by key', () => {
    const { lines, log } = capture();
    log.info({ secretKey: 'abc', nested: { password: 'p', authKey: 'k' } }, 'x');
    const out = lines.join('');
    expect(out).not.toMatch(/"abc"|"p"|"k"/);
    expect(out).toContain('[redacted]');
  });

  it('leaves short numbers alone', () => {
    expect(maskPhones('port 50051, dc 2')).toBe('port 50051, dc 2');
  });
});
