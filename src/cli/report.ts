/** Progress on a terminal, and the end-of-stage summary as text or JSON. */

const isTTY = () => Boolean(process.stderr.isTTY) && !process.env.CI;

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface ProgressState {
  done: number;
  unit: string;
  seconds: number;
  /** what `done` counts up to: a bar and an ETA in that unit */
  total?: number;
  /** input bytes read so far and in all (ingest): the bar, MB/s and the ETA follow them */
  bytesRead?: number;
  totalBytes?: number;
  extra?: string;
}

export interface Progress {
  update(p: ProgressState): void;
  end(): void;
}

/** One progress line: count and rate in the unit that moves; a bar and ETA when the end is known; MB/s only for bytes. */
export function progressLine(label: string, { done, unit, seconds, total, bytesRead, totalBytes, extra }: ProgressState): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const parts = [`${label}`, `${done.toLocaleString('en')} ${unit}`, `${rate.toFixed(0)} ${unit}/s`];
  // a decompressor reads ahead of the pages it gives: once it has read all of a compressed input,
  // the bytes say nothing more of how far the pages are (a small bz2 is read whole at once)
  const inputRead = bytesRead !== undefined && Boolean(totalBytes) && bytesRead >= totalBytes!;
  const frac = inputRead ? null : bytesRead !== undefined && totalBytes ? Math.min(1, bytesRead / totalBytes) : total ? Math.min(1, done / total) : null;
  if (inputRead) parts.push('input read, the last pages being parsed');
  if (frac !== null) {
    const width = 20;
    const fill = Math.round(frac * width);
    parts.unshift(`[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
    if (bytesRead !== undefined && totalBytes) parts.push(`${(bytesRead / 1e6 / Math.max(seconds, 1e-3)).toFixed(1)} MB/s`);
    parts.push(`ETA ${frac > 0 ? duration((seconds * (1 - frac)) / frac) : '?'}`);
  }
  if (extra) parts.push(extra);
  return parts.join('  ');
}

/** A one-line progress bar on stderr (progressLine), on a terminal only. */
export function progressBar(label: string): Progress {
  if (!isTTY()) return { update() {}, end() {} };
  let shown = false;
  return {
    update(p) {
      process.stderr.write(`\r\x1b[2K${progressLine(label, p)}`);
      shown = true;
    },
    end() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

export const log = (line: string) => process.stderr.write(`${line}\n`);

export type Tick = (p: Omit<Parameters<Progress['update']>[0], 'unit'>) => void;

/** Runs `work` with a progress bar counting `unit`, cleared when it ends, however it ends. */
export async function withProgress<T>(label: string, unit: string, work: (tick: Tick) => Promise<T>): Promise<T> {
  const bar = progressBar(label);
  try {
    return await work((p) => bar.update({ ...p, unit }));
  } finally {
    bar.end();
  }
}

/** Aligned "key  value" lines. */
export function table(rows: [string, string | number][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${typeof v === 'number' ? v.toLocaleString('en') : v}`).join('\n');
}

export function counts(o: Record<string, number>): string {
  const e = Object.entries(o);
  return e.length ? e.map(([k, v]) => `${k}: ${v.toLocaleString('en')}`).join(', ') : 'none';
}
