/** This process's CPU seconds (with the children it waited for, e.g. lbzip2) and peak RSS so far. */
import { readFileSync } from 'node:fs';

export interface Usage {
  cpu_seconds: number;
  children_cpu_seconds: number;
  peak_rss_mb: number;
}

export function processUsage(): Usage {
  const ru = process.resourceUsage();
  let cpu = (ru.userCPUTime + ru.systemCPUTime) / 1e6;
  let children = 0;
  try {
    // /proc/self/stat fields 14–17: utime stime cutime cstime, in clock ticks (100 per second)
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    // not Linux: this process only
  }
  cpu += children;
  return { cpu_seconds: Math.round(cpu * 100) / 100, children_cpu_seconds: children, peak_rss_mb: Math.round(ru.maxRSS / 1024) };
}
