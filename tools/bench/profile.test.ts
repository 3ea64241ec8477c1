import { componentOf, summarizeProfile } from './profile';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe('CPU profile summary (bench --profile)', () => {
  it('names the component of a frame: Tern directory, npm package, Node, V8', () => {
    expect(
      componentOf(frame('encode', 'file:///r/dist/services/gateway/src/mtproto/transport/framing.js')),
    ).toBe('tern gateway/mtproto');
    expect(componentOf(frame('x', 'file:///r/node_modules/@grpc/grpc-js/build/src/server.js'))).toBe(
      '@grpc/grpc-js',
    );
    expect(componentOf(frame('x', 'file:///r/node_modules/minio/dist/main/internal/client.js'))).toBe(
      'minio',
    );
    expect(componentOf(frame('x', 'node:internal/streams/writable'))).toBe('node:internal');
    expect(componentOf(frame('(garbage collector)', ''))).toBe('(garbage collector)');
    expect(componentOf(frame('writev', ''))).toBe('(native) writev');
  });

  it('adds self time by component and function, idle apart', () => {
    const s = summarizeProfile({
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('(garbage collector)', '') },
        { id: 4, callFrame: frame('encode', 'file:///r/services/gateway/src/mtproto/a.ts') },
        { id: 5, callFrame: frame('decode', 'file:///r/services/gateway/src/mtproto/b.ts') },
      ],
      samples: [2, 3, 4, 5, 5, 2],
      timeDeltas: [1000, 2000, 3000, 1000, 1000, 4000],
      startTime: 0,
      endTime: 12_000,
    });
    expect(s.totalMs).toBe(12);
    expect(s.busyMs).toBe(7);
    expect(s.components).toEqual([
      { name: 'tern gateway/mtproto', ms: 5 },
      { name: '(garbage collector)', ms: 2 },
    ]);
    expect(s.functions[0]).toEqual({ name: 'encode mtproto/a.ts:1', ms: 3 });
  });
});
