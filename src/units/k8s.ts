/**
 * Kubernetes manifests of a plan (`launch --executor k8s --dry-run`): for each stage an Indexed Job
 * (completionMode Indexed, the completion index = the unit), its pods mounting the shared volume the
 * user names, each index retried on its own (backoffLimitPerIndex). Written to DIR/k8s/ as JSON (which
 * kubectl applies as it does YAML), in the order the stages run: apply each once the one before it
 * has completed (`kubectl wait --for=condition=complete job/NAME`). The shard files are counted by the
 * order step: until it has run, no shards Job is written (run the dry run again once it has).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAN_STAGES, stageUnits, type Plan } from './plan.js';

export interface K8sOptions {
  /** the PersistentVolumeClaim that holds DIR on every pod */
  volumeClaim: string;
  /** where it is mounted; DIR is given relative to it */
  mountPath: string;
  /** the plan's folder inside the volume (as the pods see it) */
  podDir: string;
  image: string;
  workers: number;
  /** flags every task gets (--memory …) */
  taskFlags: string[];
  cpu?: string;
  memory?: string;
}

export interface Manifest {
  file: string;
  stage: string;
  completions: number | null;
}

export function k8sManifests(dir: string, plan: Plan, opts: K8sOptions): Manifest[] {
  const out = join(dir, 'k8s');
  mkdirSync(out, { recursive: true });
  const written: Manifest[] = [];
  PLAN_STAGES.forEach(({ name: stage }, k) => {
    const units = stageUnits(plan, stage, dir);
    if (stage === 'shards' && !units.length) {
      written.push({ file: '', stage, completions: null });
      return;
    }
    const completions = units.length;
    const name = `linkbert-${stage}`;
    const command = `exec linkbert task ${stage} --out ${opts.podDir} --unit "$JOB_COMPLETION_INDEX" ${opts.taskFlags.join(' ')}`.trim();
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, labels: { app: 'linkbert', 'linkbert/stage': stage, 'linkbert/plan': plan.settings_hash.slice(0, 16) } },
      spec: {
        completionMode: 'Indexed',
        completions,
        parallelism: Math.min(Math.max(1, opts.workers), completions),
        backoffLimitPerIndex: 3,
        maxFailedIndexes: 0,
        template: {
          metadata: { labels: { app: 'linkbert', 'linkbert/stage': stage } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'task',
                image: opts.image,
                command: ['sh', '-c', command],
                volumeMounts: [{ name: 'data', mountPath: opts.mountPath }],
                ...(opts.cpu || opts.memory ? { resources: { requests: { ...(opts.cpu ? { cpu: opts.cpu } : {}), ...(opts.memory ? { memory: opts.memory } : {}) } } } : {}),
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: opts.volumeClaim } }],
          },
        },
      },
    };
    const file = join(out, `${String(k).padStart(2, '0')}-${stage}.json`);
    writeFileSync(file, JSON.stringify(job, null, 2) + '\n');
    written.push({ file, stage, completions });
  });
  return written;
}
