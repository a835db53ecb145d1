// The echo servers (tal/examples/echod.tal, written by hand in TAL, and compiler/examples/echod.pop, in popc's
// Popcorn, compiled by popc at -O0 and at -O2) and the pingpong client (compiler/examples/pingpong.pop, at both
// levels), natively on the host: each server verifies, listens on a free port, and echoes every byte back in order
// to many concurrent clients through poll, also while one client does not read (its echo waits, pending, for
// POLLOUT) and while others reset their connections.
import test from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { scratch } from '../util/native.ts';
import { popcExe, talExe } from '../util/echonet.ts';
import { freePort } from '../../bench/hosttools.ts';

const bin = scratch('ktal-echod-');
const servers: ChildProcess[] = [];
test.after.always(() => {
  for (const s of servers) s.kill('SIGKILL');
  bin.done();
});

const talEchod = talExe(bin, 'tal/examples/echod.tal', 'echod-tal').exe;
const popEchod = popcExe(bin, 'compiler/examples/echod.pop', 'echod-pop').exe;
const popEchodO2 = popcExe(bin, 'compiler/examples/echod.pop', 'echod-pop-O2', { optimise: 2 }).exe;
const pingpong = popcExe(bin, 'compiler/examples/pingpong.pop', 'pingpong-pop').exe;
const pingpongO2 = popcExe(bin, 'compiler/examples/pingpong.pop', 'pingpong-pop-O2', { optimise: 2 }).exe;

function tryConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Starts a server on a free port and waits until the port accepts connections. */
async function start(exe: string): Promise<number> {
  const port = await freePort();
  const p = spawn(exe, [String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  servers.push(p);
  let stderr = '';
  p.stderr!.on('data', d => { stderr += d; });
  for (let i = 0; i < 200; i++) {
    if (p.exitCode !== null) throw new Error(`${exe} exited with ${p.exitCode}: ${stderr}`);
    if (await tryConnect(port)) return port;
    await new Promise(r => setTimeout(r, 25));
  }
  throw new Error(`${exe} does not accept connections on ${port}`);
}

/** Connects, sends `data` (as the given messages, back to back), and resolves with everything echoed once it has all come back. */
function echo(port: number, messages: Buffer[], o: { readAfter?: Promise<unknown> } = {}): Promise<Buffer> {
  const total = messages.reduce((n, m) => n + m.length, 0);
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let got = 0;
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= total) {
        s.end();
        resolve(Buffer.concat(chunks));
      }
    });
    s.on('end', () => { if (got < total) reject(new Error(`the server closed after ${got} of ${total} bytes`)); });
    s.on('connect', () => {
      if (o.readAfter) {
        s.pause();
        void o.readAfter.then(() => s.resume());
      }
      for (const m of messages) s.write(m);
    });
  });
}

/** Connects, sends a little, and resets the connection (RST), without reading. */
function reset(port: number): Promise<void> {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve());
    s.on('connect', () => {
      s.write(randomBytes(50_000), () => {
        s.resetAndDestroy();
        resolve();
      });
    });
  });
}

const randomMessages = (n: number) => Array.from({ length: n }, () => randomBytes(randomInt(1, 65537)));

/** Each server with the pingpong client of its level. */
const SERVERS = [
  ['echod.tal', talEchod, pingpong], ['echod.pop', popEchod, pingpong], ['echod.pop -O2', popEchodO2, pingpongO2],
] as const;
for (const [name, exe, client] of SERVERS) {
  test(`${name}: 10 concurrent clients × 50 messages of 1..65536 bytes come back whole and in order, beside a client ` +
    `that does not read and clients that reset`, async t => {
    const port = await start(exe);
    // A client that sends 24 MiB (more than the loopback socket buffers of both ends hold) and reads nothing until
    // the others are done: the server's sends to it come up short, then EAGAIN; the rest waits pending for POLLOUT
    // while the other clients go on.
    let othersDone!: () => void;
    const others = new Promise<void>(r => { othersDone = r; });
    const slowData = [randomBytes(24 << 20)];
    const slow = echo(port, slowData, { readAfter: others });
    const resets = Promise.all(Array.from({ length: 5 }, () => reset(port)));
    const sent = Array.from({ length: 10 }, () => randomMessages(50));
    const echoed = await Promise.all(sent.map(m => echo(port, m)));
    othersDone();
    await resets;
    sent.forEach((m, i) => t.true(echoed[i].equals(Buffer.concat(m)), `client ${i}: the echo differs`));
    t.true((await slow).equals(slowData[0]), 'the client that read last: the echo differs');
    // still serving after all that
    const last = await echo(port, [Buffer.from('still there\n')]);
    t.is(last.toString(), 'still there\n');
  });

  const level = client === pingpongO2 ? ' -O2' : '';
  test(`pingpong${level} against ${name}: prints the round-trip times and exits 0`, async t => {
    const port = await start(exe);
    for (const [target, count, size] of [[String(port), 200, 100], [`127.0.0.1:${port}`, 20, 65536]] as const) {
      const { stdout } = await promisify(execFile)(client, [target, String(count), String(size)], { timeout: 10_000 });
      const m = /^count (\d+) size (\d+) min (\d+) p50 (\d+) p90 (\d+) p99 (\d+) max (\d+)\n$/.exec(stdout);
      t.truthy(m, stdout);
      const [c, s, ...times] = m!.slice(1).map(Number);
      t.is(c, count);
      t.is(s, size);
      t.deepEqual([...times].sort((a, b) => a - b), times, 'min ≤ p50 ≤ p90 ≤ p99 ≤ max');
    }
  });
}

test('echod.tal and pingpong refuse bad arguments', async t => {
  for (const args of [[], ['0'], ['65536'], ['12x']]) {
    const e = await promisify(execFile)(talEchod, args).catch((err: { code: number }) => err) as { code?: number };
    t.is(e.code, 2, JSON.stringify(args));
  }
  const e = await promisify(execFile)(pingpong, ['1', '2']).catch((err: { code: number }) => err) as { code?: number };
  t.is(e.code, 2);
});
