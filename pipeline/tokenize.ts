import { createInterface } from 'node:readline';
import { type Command } from '../src/cli/args.js';
import { loadTokenizer } from '../src/tokenize/tokenizer.js';

export const TOKENIZER_FLAGS = [
  { name: 'tokenizer', type: 'string', placeholder: 'X', help: 'tokenizer.json, vocab.txt, a folder holding one, or a hub model id (e.g. michiyasunaga/LinkBERT-large)' },
  { name: 'lowercase', type: 'boolean', help: 'lower-case (for a vocab.txt without tokenizer_config.json beside it)' },
  { name: 'revision', type: 'string', placeholder: 'REV', help: 'hub revision of a model id (default: main)' },
] as const;

export const command: Command = {
  name: 'tokenize',
  summary: 'show how the tokenizer encodes text: one JSON object per input, ids as the model sees them',
  usage: 'linkbert tokenize --tokenizer X [TEXT…]   (lines on stdin when no TEXT)',
  positionals: true,
  flags: [...TOKENIZER_FLAGS],
  async run({ flags, positionals }) {
    if (!flags.tokenizer) throw new Error('--tokenizer X is required');
    const { tokenizer } = await loadTokenizer(flags.tokenizer as string, { lowercase: flags.lowercase as boolean | undefined, revision: flags.revision as string | undefined });
    const show = async (text: string) => {
      const e = await tokenizer.encode(text);
      console.log(JSON.stringify({ text, ids: e.getIds(), tokens: e.getTokens() }));
    };
    if (positionals.length) for (const t of positionals) await show(t);
    else for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) await show(line);
    return 0;
  },
};
