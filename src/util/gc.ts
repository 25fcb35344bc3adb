/**
 * A full garbage collection on demand. Native objects (tokenizer encodings, ONNX tensors) are freed
 * only when V8 collects their small JS wrappers, and V8 does not count their native memory: a loop
 * that makes many of them grows until the next major GC, which may come late. Stages call this
 * every so many megabytes of work, so their memory stays flat.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as () => void;
      } catch {
        gc = null;
      }
    }
  }
  gc?.();
}
