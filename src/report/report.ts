/**
 * report.html: one self-contained page (no network, no script) about a pipeline database: corpus
 * counts, in-/out-degree distributions (log–log), where links resolve, label balance, segment
 * lengths of A and B per relation, the top hubs, coverage, and example pairs per relation with the
 * link's anchor highlighted. Plots are Vega-Lite specs rendered to SVG by Vega itself.
 */
import { checkWritable, writeOwned } from '../util/own-files.js';
import { rows, sqlFile } from '../db/duckdb.js';
import { runStage } from '../stage/kernel.js';

export interface ReportSummary {
  stage: 'report';
  db: string;
  out: string;
  plots: number;
  examples: number;
  already_done: boolean;
  seconds: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: unknown) => Number(n).toLocaleString('en');
/** 0, 1, 10, 100, … up to the power of ten at or above `max`: the ticks of a symmetric log axis. */
const powersOf10 = (max: number) => [0, ...Array.from({ length: Math.ceil(Math.log10(max)) + 1 }, (_, i) => 10 ** i)];
/** 1, 2, 5, 10, 20, 50, … within a log axis's domain. */
const logTicks = (values: number[]) => Array.from({ length: 3 * (Math.ceil(Math.log10(logDomain(values)[1]!)) + 1) }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3)).filter((t) => t <= logDomain(values)[1]!);
/** A log axis's domain around positive values: from a little under the least to a little over the most. */
const logDomain = (values: number[]) => [Math.min(1, ...values) * 0.7, Math.max(1, ...values) * 1.5];
const RELATIONS = ['contiguous', 'random', 'linked'];

/** A Vega-Lite spec as an SVG string. */
async function svg(spec: Record<string, unknown>): Promise<string> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'sans-serif', view: { stroke: null } }, ...spec } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const out = await view.toSVG();
  view.finalize();
  return out;
}

export async function report(opts: { db: string; out: string; examplesPerLabel?: number; memory?: number; overwrite?: boolean }): Promise<ReportSummary> {
  checkWritable([opts.out], { allowed: opts.overwrite, flag: '--overwrite' });
  return runStage<ReportSummary, 'graph' | 'segment' | 'pairs'>({
    stage: 'report',
    db: opts.db,
    memory: opts.memory,
    readOnly: true,
    reads: ['graph', 'segment', 'pairs'],
    settings: () => ({}),
    async work({ db, ingest, prior }) {
      const pairsSummary = prior.pairs.summary;
      const q = async <T>(name: string, params?: Record<string, unknown>) => rows<T>(db.conn, await sqlFile(`report/${name}.sql`), params as Record<string, number> | undefined);
      const [counts] = await q<Record<string, number>>('counts');
      const degrees = await q<{ kind: string; degree: number; articles: number }>('degrees');
      const [zero] = await q<{ in_zero: number; out_zero: number }>('degree-zero');
      const resolution = await q<{ resolution: string; links: number }>('resolution');
      const labels = await q<{ label: number; relation: string; pairs: number }>('labels');
      const lengths = await q<{ relation: string; side: string; tokens: number; segments: number }>('lengths');
      const hubs = await q<{ title: string; in_degree: number; out_degree: number }>('hubs');
      const chosen = await q<{ label: number; id: number; a_article: number; a_start: number; a_end: number; b_article: number; b_start: number; b_end: number; anchor: string | null }>('examples', { per_label: opts.examplesPerLabel ?? 2 });
      // each side's text on its own (a lookup by seq): an article's text never passes through a join
      const side = async (seq: number, start: number, end: number) => (await q<{ title: string; text: string }>('example-text', { seq, start, end }))[0]!;
      const examples: { label: number; id: number; a_title: string; a_text: string; b_title: string; b_text: string; anchor: string | null }[] = [];
      for (const c of chosen) {
        const a = await side(c.a_article, c.a_start, c.a_end);
        const b = await side(c.b_article, c.b_start, c.b_end);
        examples.push({ label: c.label, id: c.id, a_title: a.title, a_text: a.text, b_title: b.title, b_text: b.text, anchor: c.anchor });
      }

      const plots = [
        {
          // degree 0 has no place on a log axis: said in the title rather than dropped unseen
          title: `Degree distributions (articles with each number of distinct linked articles; log–log; not shown: ${num(Number(zero!.in_zero))} articles with in-degree 0, ${num(Number(zero!.out_zero))} with out-degree 0)`,
          spec: {
            width: 420, height: 260, data: { values: degrees.map((d) => ({ ...d, degree: Number(d.degree), articles: Number(d.articles) })) },
            mark: { type: 'point', size: 40, strokeWidth: 1.5 },
            // domains from below 1: the points at degree 1 and at one article stand inside the axes, not
            // half cut off; a shape per kind, so that an in-degree point under an out-degree one still shows
            encoding: {
              x: { field: 'degree', type: 'quantitative', scale: { type: 'log', domain: logDomain(degrees.map((d) => Number(d.degree))), nice: false }, axis: { values: logTicks(degrees.map((d) => Number(d.degree))), format: ',d' } },
              y: { field: 'articles', type: 'quantitative', scale: { type: 'log', domain: logDomain(degrees.map((d) => Number(d.articles))), nice: false }, axis: { values: logTicks(degrees.map((d) => Number(d.articles))), format: ',d' } },
              color: { field: 'kind', type: 'nominal' },
              shape: { field: 'kind', type: 'nominal', scale: { range: ['circle', 'cross'] } },
            },
          },
        },
        {
          // the kinds differ by orders of magnitude on real data (dangling 30,081, direct 116 in an
          // English excerpt): a log axis keeps every bar visible, each labelled with its count
          title: 'Where the links end (links, log axis)',
          spec: {
            width: 420, height: 160, data: { values: resolution.map((r) => ({ ...r, links: Number(r.links) })) },
            encoding: { y: { field: 'resolution', type: 'nominal', sort: { field: 'links', op: 'sum', order: 'descending' } }, x: { field: 'links', type: 'quantitative', scale: { type: 'symlog' }, axis: { values: powersOf10(Math.max(1, ...resolution.map((r) => Number(r.links)))), format: ',d' } } },
            layer: [{ mark: 'bar' }, { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { text: { field: 'links', type: 'quantitative', format: ',' } } }],
          },
        },
        {
          title: 'Label balance (instances per document relation)',
          spec: { width: 300, height: 160, data: { values: labels.map((l) => ({ ...l, pairs: Number(l.pairs) })) }, mark: 'bar', encoding: { x: { field: 'relation', type: 'nominal', sort: RELATIONS, axis: { labelAngle: 0 } }, y: { field: 'pairs', type: 'quantitative' }, color: { field: 'relation', type: 'nominal', sort: RELATIONS, legend: null } } },
        },
        {
          title: 'Segment lengths of A and of B per relation (tokens, bins of 8)',
          spec: {
            data: { values: lengths.map((l) => ({ ...l, tokens: Number(l.tokens), segments: Number(l.segments) })) },
            mark: 'bar',
            encoding: { x: { field: 'tokens', type: 'quantitative', bin: { binned: true, step: 8 } }, x2: { datum: null }, y: { field: 'segments', type: 'quantitative' }, color: { field: 'side', type: 'nominal' }, row: { field: 'relation', type: 'nominal', sort: RELATIONS }, column: { field: 'side', type: 'nominal' } },
            width: 260, height: 90,
          },
        },
      ];
      // x2 is not needed for pre-binned bars of a fixed step: drop the placeholder
      delete (plots[3]!.spec.encoding as Record<string, unknown>).x2;
      const svgs: string[] = [];
      for (const p of plots) svgs.push(await svg(p.spec));

      const cov = pairsSummary.coverage;
      const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
      const table = (head: string[], body: (string | number)[][]) =>
        `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? num(c) : esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
      const highlight = (text: string, anchor: string | null) => {
        if (!anchor) return esc(text);
        const at = text.indexOf(anchor);
        return at < 0 ? esc(text) : `${esc(text.slice(0, at))}<mark>${esc(anchor)}</mark>${esc(text.slice(at + anchor.length))}`;
      };
      const exampleHtml = RELATIONS.map((rel, label) => {
        const mine = examples.filter((e) => e.label === label);
        return `<h3>${rel}</h3>${mine
          .map((e) => {
            const note = label === 2 ? (e.anchor ? (e.a_text.includes(e.anchor) ? '' : `<p class="note">The link to B's article stands elsewhere in A's article, as “${esc(e.anchor)}”.</p>`) : `<p class="note">The link to B's article is outside the clean text (a template, infobox, list…).</p>`) : '';
            return `<div class="pair"><p><b>A</b> — ${esc(e.a_title)}</p><blockquote>${label === 2 ? highlight(e.a_text, e.anchor) : esc(e.a_text)}</blockquote><p><b>B</b> — ${esc(e.b_title)}</p><blockquote>${esc(e.b_text)}</blockquote>${note}</div>`;
          })
          .join('')}`;
      }).join('');

      const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LinkBERT data report — ${esc(ingest.source)}</title>
<style>
body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .8em;border-bottom:1px solid #eee;text-align:left}
td:not(:first-child){text-align:right}
figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}
blockquote{margin:.2em 0 .8em 1em;padding-left:.8em;border-left:3px solid #ccc;font-size:.9em}
mark{background:#ffe066}.pair{margin-bottom:1.5em}.note{color:#666;font-size:.85em}
</style></head><body>
<h1>LinkBERT data report</h1>
<p>${esc(ingest.source)} → ${esc(opts.db)}</p>
<h2>Corpus</h2>
${table(['what', 'count'], [['pages', counts!.pages!], ['articles', counts!.articles!], ['  disambiguation pages', counts!.disambiguation_pages!], ['redirects', counts!.redirects!], ['links', counts!.links!], ['article → article edges', counts!.edges!], ['segments', counts!.segments!], ['tokens', counts!.tokens!], ['instances (pairs)', counts!.pairs!]])}
<h2>Link graph</h2>
<figure><figcaption>${esc(plots[0]!.title)}</figcaption>${svgs[0]}</figure>
<figure><figcaption>${esc(plots[1]!.title)}</figcaption>${svgs[1]}</figure>
<h3>Top hubs</h3>
${table(['article', 'in-degree', 'out-degree'], hubs.map((h) => [h.title, Number(h.in_degree), Number(h.out_degree)]))}
<h2>Instances</h2>
<figure><figcaption>${esc(plots[2]!.title)}</figcaption>${svgs[2]}</figure>
<p>Coverage: ${pct(cov?.articles)} of the articles, ${pct(cov?.segments)} of the segments and ${pct(cov?.tokens)} of the tokens appear in an instance (as A or B); B segments: ${esc(pairsSummary.b_segments ?? 'non-lead')}.</p>
<figure><figcaption>${esc(plots[3]!.title)}</figcaption>${svgs[3]}</figure>
<h2>Example pairs</h2>
<p>For linked pairs, the anchor of A's link to B's article is highlighted where it stands in A.</p>
${exampleHtml}
</body></html>
  `;
      writeOwned(opts.out, html);
      return { stage: 'report' as const, db: opts.db, out: opts.out, plots: plots.length, examples: examples.length };
    },
  });
}
