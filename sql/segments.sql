-- Segments of every article (made by `linkbert segment`): consecutive runs of whole sentences, token
-- ids without [CLS]/[SEP], each at most (max_seq_len - 3) / 2 tokens. Segment idx + 1 of an article
-- starts where segment idx ends.
CREATE OR REPLACE TABLE segments (
  article        INTEGER NOT NULL,   -- articles.seq
  idx            INTEGER NOT NULL,   -- position within the article
  n_tokens       INTEGER NOT NULL,
  ids            INTEGER[] NOT NULL, -- token ids of the model's tokenizer
  char_start     INTEGER NOT NULL,   -- [char_start, char_end) in articles.text, code points
  char_end       INTEGER NOT NULL,
  first_sentence INTEGER NOT NULL,   -- index of its first sentence (sentences view)
  n_sentences    INTEGER NOT NULL    -- sentences it touches (a long sentence may span segments)
);
