// The echo servers (tal/examples/echod.tal by hand, compiler/examples/echod.pop in Popcorn, compiled by popc at -O0
// and at -O2, as are the Popcorn clients of 3 and 4) under talrun, in user mode and at CPL 0 (--kernel), reached
// from the host through `talrun --publish HOSTPORT:PORT`, and natively:
//   1. real clients: a Node client (concurrent connections, random sizes, every byte back in order), OpenBSD nc,
//      and sockperf ping-pong against `echod PORT --sockperf` (which clears the client bit of each message)
//   2. load: concurrent clients × messages of 1..65536 bytes beside clients that reset mid-stream, timed, with the
//      talrun process's resident memory before and after: 10 clients × 20 messages each, and as a soak with
//      KTAL_LONG=1, 50 clients × 1,000 messages (some 1.5 GiB through each server, minutes each)
//   3. in-machine ping-pong: pingpong.pop against echod in the same machine (runProgram's background) in user mode,
//      kernel mode and user mode with PTI: the round-trip percentiles in simulated time, kernel mode's p50 ≤ user's
//   4. socket errors (test/popc/net/errors.pop) natively and emulated: the same lines and the same status (SIGPIPE)
import test from 'ava';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runProgram } from '../../kernel/talrun.ts';
import { scratch } from '../util/native.ts';
import { popcExe, talExe } from '../util/echonet.ts';
import { freePort } from '../../bench/hosttools.ts';
import { LEVELS, flag } from '../util/levels.ts';

const root = join(import.meta.dirname, '..', '..');
const talrun = join(root, 'bin/talrun.js');
const LONG = process.env.KTAL_LONG === '1';
const bin = scratch('ktal-echod-talrun-');
const children: ChildProcess[] = [];
test.after.always(() => {
  for (const c of children) c.kill('SIGKILL');
  bin.done();
});

/** The Popcorn programs at each of popc's levels. */
const CLIENTS = LEVELS.map(level => ({
  level,
  pingpong: popcExe(bin, 'compiler/examples/pingpong.pop', `pingpong${flag(level)}`, { optimise: level }),
  errors: popcExe(bin, 'test/popc/net/errors.pop', `errors${flag(level)}`, { optimise: level }),
  echod: popcExe(bin, 'compiler/examples/echod.pop', `echod${flag(level)}`, { optimise: level }),
}));
const SERVERS = {
  'echod.tal': talExe(bin, 'tal/examples/echod.tal', 'echod-tal'),
  'echod.pop': CLIENTS[0].echod,
  'echod.pop -O2': CLIENTS[1].echod,
};

type Mode = 'native' | 'user' | 'kernel';
const GUEST_PORT = 7000;

function echoes(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, timeoutMs);
    const done = (ok: boolean) => { clearTimeout(timer); s.destroy(); resolve(ok); };
    s.on('connect', () => s.write('?'));
    s.on('data', () => done(true));
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}

interface Server { port: number; child: ChildProcess; stderr: () => string }

/** Starts a server (natively, or under talrun with --publish on a free host port) and waits until it echoes. */
async function serve(name: keyof typeof SERVERS, mode: Mode, extra: string[] = []): Promise<Server> {
  const port = await freePort();
  const exe = SERVERS[name].exe;
  const child = mode === 'native'
    ? spawn(exe, [String(port), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath,
      [talrun, ...(mode === 'kernel' ? ['--kernel'] : []), '--publish', `${port}:${GUEST_PORT}`, exe,
      String(GUEST_PORT), ...extra],
      { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', d => { stderr += d; });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} (${mode}) exited with ${child.exitCode}: ${stderr}`);
    if (await echoes(port)) return { port, child, stderr: () => stderr };
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`${name} (${mode}) does not echo on ${port}: ${stderr}`);
}

function stop(s: Server): void { s.child.kill('SIGKILL'); }

/** Resident memory of a process in KiB (VmRSS), and its peak (VmHWM). */
function rss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * A client that sends `count` random messages of 1..maxSize bytes (back to back, with the socket's back-pressure)
 * and checks that every byte comes back in order; only what is in flight is kept. Resolves with the bytes echoed.
 */
function streamClient(port: number, count: number, maxSize = 65536): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const pending: Buffer[] = []; // sent, not yet echoed
    let headOff = 0, sentAll = false, got = 0, total = 0;
    s.on('error', reject);
    s.on('end', () => reject(new Error(`the server closed after ${got} of ${total} bytes`)));
    s.on('data', (d: Buffer) => {
      let o = 0;
      while (o < d.length) {
        const head = pending[0];
        if (!head) { reject(new Error(`${d.length - o} bytes more than was sent`)); s.destroy(); return; }
        const n = Math.min(head.length - headOff, d.length - o);
        if (!d.subarray(o, o + n).equals(head.subarray(headOff, headOff + n))) {
          reject(new Error(`the echo differs at byte ${got + o}`));
          s.destroy();
          return;
        }
        o += n;
        headOff += n;
        if (headOff === head.length) { pending.shift(); headOff = 0; }
      }
      got += d.length;
      if (sentAll && pending.length === 0) { s.removeAllListeners('end'); s.end(); resolve(got); }
    });
    s.on('connect', async () => {
      s.setNoDelay(true);
      for (let i = 0; i < count; i++) {
        const m = randomBytes(randomInt(1, maxSize + 1));
        pending.push(m);
        total += m.length;
        if (!s.write(m)) await new Promise(r => s.once('drain', r));
      }
      sentAll = true;
    });
  });
}

/** Connects, sends some bytes, and resets the connection (RST) after `ms`, without reading. */
function resetter(port: number, ms: number): Promise<void> {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve());
    s.on('connect', () => {
      s.write(randomBytes(randomInt(1, 200_000)));
      setTimeout(() => { s.resetAndDestroy(); resolve(); }, ms);
    });
  });
}

const run = promisify(execFile);

/** `sockperf ping-pong --tcp -t 1 -m 64`: the average latency it reports, in µs. */
async function sockperf(port: number): Promise<number> {
  const r = await run('sockperf', ['ping-pong', '--tcp', '-i', '127.0.0.1', '-p', String(port), '-t', '1', '-m', '64'],
    { timeout: 30_000 })
    .catch((e: { stdout: string; stderr: string }) => e);
  const out = r.stdout + r.stderr;
  const m = /Summary: Latency is ([\d.]+) usec/.exec(out);
  if (!m) throw new Error(`sockperf reported no latency:\n${out}`);
  return Number(m[1]);
}

const haveSockperf = spawnSync('sockperf', ['--version']).error === undefined;
const haveNc = spawnSync('nc', ['-h']).error === undefined;

// ---- 1. real clients ----

for (const name of Object.keys(SERVERS) as (keyof typeof SERVERS)[]) {
  for (const mode of ['native', 'user', 'kernel'] as const) {
    (mode === 'native' ? test
      : test.serial)(`${name} (${mode}): a Node client with 5 concurrent connections × 20 random messages, and nc, ` +
      `get every byte back in order`, async t => {
      const s = await serve(name, mode);
      try {
        const sizes = await Promise.all(Array.from({ length: 5 }, () => streamClient(s.port, 20)));
        t.true(sizes.every(n => n > 0));
        if (haveNc) {
          const { stdout } = await run('sh', ['-c', `printf 'hello, echod\\n' | nc -q 1 127.0.0.1 ${s.port}`],
            { timeout: 10_000 });
          t.is(stdout, 'hello, echod\n');
        } else t.log('nc is not installed: skipped');
      } finally { stop(s); }
    });

    (haveSockperf ? mode === 'native' ? test : test.serial
      : test.skip)(`${name} (${mode}) --sockperf: sockperf ping-pong --tcp completes and reports a latency`, async t => {
      const s = await serve(name, mode, ['--sockperf']);
      try {
        const us = await sockperf(s.port);
        t.log(`${name} ${mode}: sockperf ping-pong -m 64 latency ${us} usec`);
        t.true(us > 0);
      } finally { stop(s); }
    });
  }
}

test('echod --sockperf clears exactly byte 9 bit 0x01 of each message, across reads and message boundaries (natively)',
  async t => {
  for (const name of Object.keys(SERVERS) as (keyof typeof SERVERS)[]) {
    const s = await serve(name, 'native', ['--sockperf']);
    try {
      // messages of 14..3000 bytes, with the client bit set, sent in pieces that split headers anywhere
      const msgs = Array.from({ length: 200 }, (_, i) => {
        const len = i % 3 === 0 ? 14 : randomInt(14, 3001);
        const m = randomBytes(len);
        m[9] |= 1;
        m.writeUInt32BE(len, 10);
        return m;
      });
      const stream = Buffer.concat(msgs);
      const want = Buffer.concat(msgs.map(m => { const c = Buffer.from(m); c[9] &= 0xfe; return c; }));
      const got = await new Promise<Buffer>((resolve, reject) => {
        const c = net.connect(s.port, '127.0.0.1');
        const chunks: Buffer[] = [];
        let n = 0;
        c.on('error', reject);
        c.on('data', (d: Buffer) => { chunks.push(d); n += d.length; if (n >= stream.length) { c.end(); resolve(Buffer.concat(chunks)); } });
        c.on('connect', async () => {
          c.setNoDelay(true);
          for (let o = 0; o < stream.length;) {
            const k = randomInt(1, 40);
            c.write(stream.subarray(o, o + k));
            o += k;
            if (randomInt(0, 20) === 0) await new Promise(r => setTimeout(r, 1));
          }
        });
      });
      t.true(got.equals(want), `${name}: the echo is not the stream with each message's client bit cleared`);
    } finally { stop(s); }
  }
});

// ---- 2. load ----

// The full size (50 × 1,000, every server, both modes) is a soak of minutes a server: KTAL_LONG=1. The default run
// keeps every path (concurrent clients, resets beside them, memory, the next connection) at 10 × 20.
const LOAD_CLIENTS = LONG ? 50 : 10;
const LOAD_MESSAGES = LONG ? 1000 : 20;
const LOADS = [['echod.tal', 'user'], ['echod.tal', 'kernel'], ['echod.pop', 'user'], ['echod.pop', 'kernel']] as const;
for (const [name, mode] of LOADS) {
  test.serial(`load (${name}, ${mode} mode, --publish): ${LOAD_CLIENTS} concurrent clients × ${LOAD_MESSAGES} ` +
    `messages of 1..65536 bytes all come back in order beside clients that reset; memory stays bounded`, async t => {
    const s = await serve(name, mode);
    try {
      const before = rss(s.child.pid!);
      const t0 = Date.now();
      let stopResets = false;
      const resets = (async () => {
        let n = 0;
        while (!stopResets) { await resetter(s.port, randomInt(1, 50)); n++; }
        return n;
      })();
      const bytes = await Promise.all(Array.from({ length: LOAD_CLIENTS }, () => streamClient(s.port, LOAD_MESSAGES)));
      stopResets = true;
      const nResets = await resets;
      const secs = (Date.now() - t0) / 1000;
      const total = bytes.reduce((a, b) => a + b, 0);
      const after = rss(s.child.pid!);
      t.log(`${name} ${mode}: ${LOAD_CLIENTS} × ${LOAD_MESSAGES} messages, ${(total / 2 ** 20).toFixed(1)} MiB echoed `
        +
        `in ${secs.toFixed(1)} s ` +
        `(${(total / 2 ** 20 / secs).toFixed(1)} MiB/s), ${nResets} clients reset meanwhile; talrun RSS ` +
          `${(before.rss / 1024).toFixed(0)} MiB before, ` +
        `${(after.rss / 1024).toFixed(0)} MiB after, peak ${(after.peak / 1024).toFixed(0)} MiB`);
      t.true(after.peak < 1024 * 1024, `talrun's peak RSS ${after.peak} kB ≥ 1 GiB`);
      // The next connection is served at once.
      const t1 = Date.now();
      const ok = await echoes(s.port, 5000);
      t.log(`${name} ${mode}: the next connection ` +
        `${ok ? `echoed after ${Date.now() - t1} ms` : 'did not echo within 5 s'}`);
      t.true(ok, 'the next connection echoes');
    } finally { stop(s); }
  });
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in clock ticks (USER_HZ 100)
}

// Found here and fixed (kernel/kernel.ts restReason): once a connection through --publish had come and gone, the
// machine no longer returned to the host when every task slept: the idle task takes timer interrupt
// after timer interrupt (`talrun --stats`: 2.4 million, some 2,400 s of simulated time, in 3 s of wall time) and
// talrun uses most of a CPU while nothing happens; echoes then take 100-400 ms instead of 1-10 ms. After clients
// that reset their connections (RST) the next connection waits far longer: its echo comes after 3.5-13 s, or not
// within 60 s (after the load test's 50 clients and ~450 resets), though the guest has accepted and closed every
// connection (accept4, recvfrom, sendto, close counts match). Reproduction:
//   node bin/talrun.js --stats --publish 17621:7000 echod 7000 &        (idle: no CPU)
//   node -e "require('net').connect(17621,'127.0.0.1').on('connect',function(){this.end()})"
//   sleep 3; kill -INT %1      → timer irqs ≈ 2.4M, cycles almost all idle; the CPU time grew all along
// and: 100 clients one after another that send 10 bytes and reset 20 ms later (socket.resetAndDestroy()), then a
// client that sends 1 byte: its echo arrives after 4-11 s (the next client's after 0.1-0.3 s).
test.serial('talrun --publish after clients that reset: the next client is echoed at once, and talrun idles',
  async t => {
  const s = await serve('echod.tal', 'user');
  try {
    for (let i = 0; i < 30; i++) await resetter(s.port, 20);
    const t0 = Date.now();
    const ok = await echoes(s.port, 3000);
    const ms = Date.now() - t0;
    await new Promise(r => setTimeout(r, 500));
    const before = cpuSeconds(s.child.pid!);
    await new Promise(r => setTimeout(r, 2000));
    const used = cpuSeconds(s.child.pid!) - before;
    t.log(`the echo after 30 resets: ${ok ? `${ms} ms` : 'none within 3 s'}; then talrun used ${used.toFixed(2)} s of `
      +
      `CPU in 2 s with nothing to do`);
    t.true(ok && ms < 1000, `the echo after 30 resets: ${ok ? `${ms} ms` : 'none within 3 s'}`);
    t.true(used < 0.3, `talrun used ${used.toFixed(2)} s of CPU in 2 s with nothing to do`);
  } finally { stop(s); }
});

// ---- 3. in-machine ping-pong ----

for (const { level, pingpong, echod } of CLIENTS) {
  const title = `pingpong ${flag(level)} against echod ${flag(level)} in the same machine: user mode, kernel mode, `
    + 'user mode with PTI; kernel mode p50 ≤ user mode p50';
  test(title, t => {
    const p50: Record<string, number> = {};
    for (const [label, o] of [['user', {}], ['kernel', { kernel: true }], ['user+pti', { pti: true }]] as const) {
      const r = runProgram(pingpong.elf, ['pingpong', String(GUEST_PORT), '200', '64'],
        { ...o, background: [{ image: echod.elf, argv: ['echod', String(GUEST_PORT)] }] });
      const out = Buffer.from(r.stdout).toString('latin1');
      t.is(r.status, 0, `${label}: ${r.message ?? ''} ${Buffer.from(r.stderr).toString()}`);
      const m = /^count 200 size 64 min (\d+) p50 (\d+) p90 (\d+) p99 (\d+) max (\d+)\n$/.exec(out);
      t.truthy(m, `${label}: ${out}`);
      if (!m) continue;
      p50[label] = Number(m[2]);
      t.log(`${label}: ${out.trim()} (µs of simulated time)`);
    }
    t.true(p50.kernel <= p50.user, `kernel p50 ${p50.kernel} > user p50 ${p50.user}`);
  });
}

// ---- 4. errors as on Linux ----

for (const { level, errors } of CLIENTS) {
  const title = `socket errors ${flag(level)}: the same return values and the same end (SIGPIPE, 141) natively and `
    + 'under talrun in user and kernel mode';
  test(title, t => {
    const nat = spawnSync(errors.exe, [], { input: '', encoding: 'latin1', timeout: 10_000 });
    if (nat.error) throw nat.error;
    const native = { stdout: nat.stdout, status: nat.status ?? 128 + (nat.signal === 'SIGPIPE' ? 13 : 0) };
    t.is(native.status, 141, `natively: ${nat.signal} ${nat.stderr}`);
    t.regex(native.stdout, /^connect-closed-port -111\n/m);
    t.regex(native.stdout, /^bind-in-use -98\n/m);
    t.regex(native.stdout, /sigpipe-next\n$/);
    for (const [label, o] of [['user', {}], ['kernel', { kernel: true }]] as const) {
      const r = runProgram(errors.elf, ['errors'], o);
      t.is(Buffer.from(r.stdout).toString('latin1'), native.stdout, label);
      t.is(r.status, native.status, `${label}: ${r.message ?? ''}`);
    }
  });
}
