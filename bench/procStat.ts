/**
 * CPU time per process from Linux's /proc (utime + stime, in clock ticks), so a benchmark can say
 * which process used the machine's cores during a step. A target may include its children (a
 * PostgreSQL postmaster and its backends); the machine's total comes from /proc/stat, and what is
 * left over is everything else on the machine (other users, the kernel's own threads).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuTarget {
  name: string;
  pid: number;
  /** Adds the CPU of its live children, and of its children that exited (cutime + cstime). */
  children?: boolean;
}

export interface CpuSnapshot {
  atMs: number;
  /** Clock ticks per target name. */
  ticks: Map<string, number>;
  /** Machine-wide ticks summed over every core (from /proc/stat): busy, waiting for I/O, and all. */
  machine: { busy: number; iowait: number; all: number };
}

export interface CpuShares {
  seconds: number;
  /** Cores each target kept busy on average (1 = one core all the time). */
  cores: Map<string, number>;
  machineBusyCores: number;
  machineIowaitCores: number;
  /** Busy cores not accounted for by any target. */
  otherCores: number;
}

const TICKS_PER_S = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat { ppid: number; self: number; reapedChildren: number }

/** Fields after the command name (which may hold spaces and parentheses): state is field 3 of stat(5). */
function readStat(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(fields[i - 3]);
  return { ppid: n(4), self: n(14) + n(15), reapedChildren: n(16) + n(17) };
}

function machineTicks(): CpuSnapshot['machine'] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, iowait: iowait!, all: busy + idle! + iowait! };
}

export function cpuSnapshot(targets: readonly CpuTarget[]): CpuSnapshot {
  const atMs = performance.now();
  const needChildren = targets.some((t) => t.children);
  const byParent = new Map<number, number[]>();
  if (needChildren) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(entry);
      if (!stat) continue;
      const siblings = byParent.get(stat.ppid) ?? [];
      siblings.push(Number(entry));
      byParent.set(stat.ppid, siblings);
    }
  }
  const ticks = new Map<string, number>();
  for (const target of targets) {
    const own = readStat(target.pid);
    if (!own) continue;
    let total = own.self;
    if (target.children) {
      total += own.reapedChildren;
      for (const child of byParent.get(target.pid) ?? []) total += readStat(child)?.self ?? 0;
    }
    ticks.set(target.name, (ticks.get(target.name) ?? 0) + total);
  }
  return { atMs, ticks, machine: machineTicks() };
}

/** Average cores per target between two snapshots (targets missing from either are left out). */
export function cpuShares(before: CpuSnapshot, after: CpuSnapshot): CpuShares {
  const seconds = (after.atMs - before.atMs) / 1000;
  const cores = new Map<string, number>();
  let ours = 0;
  for (const [name, end] of after.ticks) {
    const start = before.ticks.get(name);
    if (start === undefined) continue;
    const used = (end - start) / TICKS_PER_S / seconds;
    cores.set(name, used);
    ours += used;
  }
  const machine = (key: 'busy' | 'iowait'): number => (after.machine[key] - before.machine[key]) / TICKS_PER_S / seconds;
  const machineBusyCores = machine('busy');
  return { seconds, cores, machineBusyCores, machineIowaitCores: machine('iowait'), otherCores: Math.max(0, machineBusyCores - ours) };
}
