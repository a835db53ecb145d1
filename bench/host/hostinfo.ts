// What the host measurements (measure.ts, kwork.ts) share: the --runs option, the host's description, medians.
import { readFileSync } from 'node:fs';

/** `--runs R` from the command line (default `dflt`); throws a message for anything but a positive integer. */
export function runsOption(dflt: number): number {
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  return runs;
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '(unreadable)';
  }
}

/** A field of /proc/cpuinfo's first processor. */
export function cpuinfo(field: string): string {
  const line = readText('/proc/cpuinfo').split('\n').find(l => l.startsWith(field));
  return line ? line.slice(line.indexOf(':') + 1).trim() : '(absent)';
}

/** The lines every host measurement starts with: CPU, virtualisation, kernel. */
export function describeHost(): string[] {
  return [
    `CPU:       ${cpuinfo('model name')} (family ${cpuinfo('cpu family')}, model ${cpuinfo('model\t')}), ` +
      `${cpuinfo('cpu MHz')} MHz reported`,
    `hypervisor flag: ${/\bhypervisor\b/.test(cpuinfo('flags')) ? 'yes (a virtual machine)' : 'no'}`,
    `kernel:    ${readText('/proc/sys/kernel/osrelease')}`,
  ];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
