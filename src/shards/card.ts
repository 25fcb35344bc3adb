/**
 * The dataset card: README.md beside the shards, as the Hugging Face Hub reads it. Its YAML header
 * names each split's files (`configs`), their features and sizes (`dataset_info`) and the licence
 * of the inputs, so that `datasets.load_dataset(SHARDS_DIR)` (or the Hub) yields `train` and
 * `validation` with the right types; its body says what the rows are, from which inputs, made how.
 * Everything in it comes from the manifest and the files' sizes: the same folder gives the same card.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Manifest, SplitTotals } from './manifest.js';

export const CARD = 'README.md';

interface Licence {
  id: string;
  /** for `other`: its name and where it is written */
  name?: string;
  link?: string;
  says: string;
}

/** The licence of each kind of input (ingest's InputKind). */
const LICENCES: Record<string, Licence> = {
  wiki: { id: 'cc-by-sa-4.0', says: "the wiki's text licence: for Wikimedia projects CC BY-SA 4.0 (3.0 for text before June 2023) and the GFDL; attribution goes to the articles' authors" },
  pubmed: { id: 'other', name: 'nlm-terms', link: 'https://www.nlm.nih.gov/databases/download/terms_and_conditions.html', says: "the NLM's terms and conditions for PubMed/MEDLINE data (abstracts may be under their publishers' copyright)" },
  pmc: { id: 'other', name: 'pmc-open-access', link: 'https://www.ncbi.nlm.nih.gov/pmc/tools/openftlist/', says: "each article's own licence, as the PMC Open Access Subset gives it" },
  books: { id: 'other', name: 'public-domain', says: 'public domain where the books are (Project Gutenberg texts are public domain in the USA): check each book' },
  jsonl: { id: 'unknown', says: 'unknown: the licence of the JSON Lines corpus given' },
};

/** Hub size categories by row count. */
function sizeCategory(n: number): string {
  const bounds: [number, string][] = [[1e3, 'n<1K'], [1e4, '1K<n<10K'], [1e5, '10K<n<100K'], [1e6, '100K<n<1M'], [1e7, '1M<n<10M'], [1e8, '10M<n<100M'], [1e9, '100M<n<1B']];
  return bounds.find(([b]) => n < b)?.[1] ?? 'n>1B';
}

/** The language of a wiki by its database name (enwiki → en); null when it does not say. */
function languageOf(dbname: string | null, kinds: string[]): string | null {
  if (kinds.every((k) => k === 'pubmed' || k === 'pmc')) return 'en';
  const m = /^([a-z]{2,3}(?:_[a-z]+)?)wiki$/.exec(dbname ?? '');
  if (!m) return null;
  return m[1] === 'simple' ? 'en' : m[1]!.replace(/_/g, '-');
}

/** A YAML scalar: strings as JSON strings (valid YAML, whatever they hold). */
const y = (v: string | number) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

/** The Arrow size of a split's rows in memory, as `datasets` holds them (list offsets, values, scalars: within a few bytes of what it counts). */
function arrowBytes(m: Manifest, s: SplitTotals & { tokens: number; masked: number }): number {
  const id = m.tokenizer.vocab_size <= 32767 ? 2 : 4;
  const list = (values: number, width: number) => 4 * (s.rows + 1) + values * width;
  let b = list(s.tokens, id) + 2 * list(s.tokens, 1) + 2 * s.rows; // input_ids, token_type_ids, attention_mask, length
  if (m.settings.masking === 'static') b += list(s.masked, 2) + list(s.masked, id);
  return b + 8 * s.rows + 8 * s.rows; // next_sentence_label (a class label: int64), pair_id
}

/** The features of the Parquet rows, in the files' column order, as the Hub's YAML gives them. */
function features(m: Manifest): string[] {
  const id = m.tokenizer.vocab_size <= 32767 ? 'int16' : 'int32';
  const out = [`  - name: input_ids`, `    sequence: ${id}`, `  - name: token_type_ids`, `    sequence: int8`, `  - name: attention_mask`, `    sequence: int8`, `  - name: length`, `    dtype: int16`];
  if (m.settings.masking === 'static') out.push(`  - name: masked_lm_positions`, `    sequence: int16`, `  - name: masked_lm_ids`, `    sequence: ${id}`);
  out.push(`  - name: next_sentence_label`, `    dtype:`, `      class_label:`, `        names:`, ...(['0', '1', '2'] as const).map((k) => `          '${k}': ${m.label_names[k]}`));
  out.push(`  - name: pair_id`, `    dtype: int64`);
  return out;
}

/** The card's text for the shards of `manifest` in folder `out`. */
export function datasetCard(m: Manifest, out: string): string {
  const splits = (['train', 'validation'] as const).filter((s) => m.splits[s]);
  const inputs = m.source.inputs;
  const kinds = [...new Set(inputs.map((i) => i.kind))];
  const licences = kinds.map((k) => LICENCES[k] ?? LICENCES.jsonl!);
  const ids = [...new Set(licences.map((l) => l.id))];
  const others = licences.filter((l) => l.id === 'other');
  const language = languageOf(m.source.dbname, kinds);
  const parquet = m.settings.format === 'parquet';
  const fileBytes = (split: string) => m.shards.filter((f) => f.split === split).reduce((n, f) => n + statSync(join(out, f.file)).size, 0);
  const h: string[] = ['---'];
  h.push(ids.length === 1 ? `license: ${ids[0]}` : 'license:', ...(ids.length === 1 ? [] : ids.map((l) => `- ${l}`)));
  if (others.length) {
    h.push(`license_name: ${y(others.map((l) => l.name!).join(' + '))}`);
    const links = others.filter((l) => l.link);
    if (links.length === 1) h.push(`license_link: ${y(links[0]!.link!)}`);
  }
  if (language) h.push('language:', `- ${language}`);
  h.push('task_categories:', '- fill-mask', 'task_ids:', '- masked-language-modeling', 'tags:', '- linkbert', '- bert-pretraining', '- document-links');
  h.push('size_categories:', `- ${sizeCategory(m.rows)}`);
  if (parquet) {
    h.push('configs:', '- config_name: default', '  data_files:', ...splits.flatMap((s) => [`  - split: ${s}`, `    path: ${y(`${s}-*.parquet`)}`]));
    const sizes = splits.map((s) => ({ s, bytes: arrowBytes(m, { ...m.splits[s]!, tokens: m.splits[s]!.tokens, masked: m.splits[s]!.masked }), files: fileBytes(s) }));
    h.push('dataset_info:', '  features:', ...features(m), '  splits:');
    for (const { s, bytes } of sizes) h.push(`  - name: ${s}`, `    num_bytes: ${bytes}`, `    num_examples: ${m.splits[s]!.rows}`);
    h.push(`  download_size: ${sizes.reduce((n, x) => n + x.files, 0)}`, `  dataset_size: ${sizes.reduce((n, x) => n + x.bytes, 0)}`);
  }
  h.push('---', '');

  const p = m.pairs;
  const t = m.tokenizer;
  const name = m.source.dbname ?? inputs.map((i) => basename(i.file)).join(' + ');
  // a tokenizer given as a folder or file by its name; a Hub id as it is
  const tokenizer = existsSync(t.source) ? basename(t.source) : t.source;
  const row = (cells: (string | number)[]) => `| ${cells.map((c) => (typeof c === 'number' ? c.toLocaleString('en') : c)).join(' | ')} |`;
  const b: string[] = [];
  b.push(`# LinkBERT pretraining data: ${name}`, '');
  b.push(
    'Each row is one pretraining instance `[CLS] A [SEP] B [SEP]` for BERT with document links (LinkBERT, Yasunaga et al., ACL 2022): A is a segment of an article;',
    "B is the next segment of the same article (label 0, contiguous), a segment of a random article (1, random), or a segment of an article A's article links to (2, linked, drawn in proportion to 1 / its in-degree).",
    `The model learns masked language modelling${m.settings.masking === 'static' ? ' (the masks are in the rows)' : ' (the collator masks: the rows are unmasked)'} and the three-way document relation.`,
    '',
  );
  b.push('## Splits', '', row(['split', 'rows', 'contiguous', 'random', 'linked', 'files']), row(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const s of splits) {
    const x = m.splits[s]!;
    b.push(row([s, x.rows, x.labels['0'], x.labels['1'], x.labels['2'], x.shards]));
  }
  b.push('');
  if (m.splits.validation) {
    b.push(
      `The validation split holds out ${(100 * (p.validation ?? 0)).toLocaleString('en')}% of the articles (a seeded draw): a row is in validation when its A article is held out, and its B is drawn only from held-out articles,`,
      'so no article appears on both sides, as A or as B, and contiguous segments of one article never straddle the splits. Labels are balanced within each split. Validation rows are written once (no `dupe_factor` copies).',
      '',
    );
  }
  b.push('## Inputs', '', row(['file', 'read as', 'bytes', 'SHA-256']), row(['---', '---', '---:', '---']));
  // (file names only: where they lay on the machine that made the data says nothing to a reader)
  for (const i of inputs) b.push(row([`\`${basename(i.file)}\``, i.kind, i.bytes ?? 'not recorded', i.sha256 ? `\`${i.sha256}\`` : 'not recorded']));
  b.push('');
  b.push('## Settings', '');
  const settings: [string, string | number | boolean | null | undefined][] = [
    ['max_seq_len', m.settings.max_seq_len], ['masking', m.settings.masking], ['masked_lm_prob', m.settings.masked_lm_prob], ['max_predictions_per_seq', m.settings.max_predictions_per_seq],
    ['whole_word_masking', m.settings.whole_word_masking], ['dupe_factor', m.settings.dupe_factor], ['shard_rows', m.settings.shard_rows], ['shards seed', m.settings.seed],
    ['pairs seed', p.seed], ['instances_per_segment', p.instances_per_segment], ['b_segments', p.b_segments], ['unlinked', p.unlinked], ['validation', p.validation ?? 0],
  ];
  for (const [k, v] of settings) if (v !== undefined && v !== null) b.push(`- ${k}: ${v}`);
  b.push('');
  b.push('## Tokenizer', '', `\`${tokenizer}\` (${t.kind}, vocabulary of ${t.vocab_size.toLocaleString('en')}, ${t.lowercase ? 'lower-cased' : 'cased'}), SHA-256 \`${t.sha256}\`; special ids: ${Object.entries(t.special_ids).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  b.push('## Columns', '', ...Object.entries(m.columns).map(([k, v]) => `- \`${k}\`: ${v}`), '');
  if (parquet) {
    b.push('## Loading', '', '```python', 'from datasets import load_dataset', 'ds = load_dataset("path/to/this/folder")  # or the Hub repository it is pushed to', `print(ds)  # ${splits.join(', ')}`, '```', '');
  } else {
    b.push('## Loading', '', `${m.settings.format === 'tfrecord' ? "TFRecord files in Google BERT's `run_pretraining.py` layout" : "HDF5 files in NVIDIA BERT's layout"}; \`manifest.json\` lists every file with its rows, labels and SHA-256.`, '');
  }
  b.push('## Licence', '', ...licences.map((l, k) => `- ${kinds[k]}: ${l.says}${l.link ? ` (${l.link})` : ''}.`), '');
  b.push('Made with linkbert-pipeline; `manifest.json` beside this card records the same in full (every file with its rows, labels and SHA-256).', '');
  return [...h, ...b].join('\n');
}
