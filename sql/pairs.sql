-- LinkBERT instances: anchor segment A of article i and segment B, with the document relation
--   0 contiguous  B is the next segment of i
--   1 random      B is a segment of an article drawn uniformly from the whole corpus (not i)
--   2 linked      B is a segment of an article j that i links to, j drawn ∝ 1 / in-degree(j)
-- Run by `linkbert pairs` after SET VARIABLE seed / instances / b_lead / unlinked / validation. Every draw is a hash of
-- the seed and what it is for, so the table is the same however DuckDB schedules the work.
--
-- `--validation F` holds out a seeded share F of the articles: a pair is in the validation split when
-- its A article is held out, and every B of a split is drawn from that split's articles, so no
-- article is on both sides. With F = 0 every article is in train and the table is as without it.

-- u(x…): a uniform draw in [0, 1) from the seed and x…
CREATE OR REPLACE TEMP MACRO u(what, a, b, c) AS (hash(getvariable('seed'), what, a, b, c) >> 11)::DOUBLE / 9007199254740992;

-- held: whether an article is held out for validation
CREATE OR REPLACE TEMP MACRO held(a) AS u('validation', a, 0, 0) < getvariable('validation');

CREATE OR REPLACE TEMP TABLE seg_n AS
SELECT article, count(*)::INTEGER AS n, held(article) AS held FROM segments GROUP BY article;

-- `--b-segments non-lead` (b_lead = 0): B is never an article's first segment, whatever the label:
-- a contiguous B cannot be one, so a random or linked B must not be either, or a lead sentence
-- ("X is a …") would give the label away. B then comes from articles with two segments or more,
-- uniform over their segments 1…n-1. `any` (b_lead = 1): a random or linked B may be any segment,
-- so articles of one segment can be reached too.
-- pos: the article's place among its split's B articles.
CREATE OR REPLACE TEMP TABLE b_articles AS
SELECT article, n, held, (row_number() OVER (PARTITION BY held ORDER BY article) - 1)::INTEGER AS pos
FROM seg_n WHERE n >= 2 - getvariable('b_lead');

-- Linked candidates of each article: its out-neighbours in its own split that can give a B, weighted
-- 1 / in-degree (the LinkBERT paper's rule, so hub articles do not dominate), as a cumulative distribution.
CREATE OR REPLACE TEMP TABLE link_cdf AS
WITH w AS (
  SELECT e.src, e.dst, 1.0 / d.in_degree AS w
  FROM edges e JOIN b_articles b ON b.article = e.dst JOIN degrees d ON d.article = e.dst
  WHERE held(e.src) = b.held
)
SELECT src, dst,
       -- the last candidate's bound is exactly 1, so every draw in [0, 1) finds one
       CASE WHEN row_number() OVER (PARTITION BY src ORDER BY dst DESC) = 1 THEN 1.0
            ELSE sum(w) OVER (PARTITION BY src ORDER BY dst ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                 / sum(w) OVER (PARTITION BY src) END AS hi
FROM w;

-- Articles that link to an article with a segment to draw: their anchors allow all three relations.
CREATE OR REPLACE TEMP TABLE linkable AS SELECT DISTINCT src AS article FROM link_cdf;

-- Anchors: every segment that has a next one. In an article that can give a linked B, all three
-- relations are possible and the label is drawn independently of the anchor. In one that cannot
-- (`--unlinked nsp`, as LinkBERT's books without links): contiguous or random only, 50/50, as BERT's
-- NSP; `--unlinked skip` leaves such anchors out.
CREATE OR REPLACE TEMP TABLE anchors AS
SELECT s.article, s.idx, k.range::INTEGER AS k, (l.article IS NOT NULL) AS linked_ok, n.held
FROM segments s
JOIN seg_n n ON n.article = s.article
LEFT JOIN linkable l ON l.article = s.article
CROSS JOIN range(getvariable('instances')) k
WHERE s.idx < n.n - 1 AND (l.article IS NOT NULL OR getvariable('unlinked') = 'nsp');

-- Labels in turn along a seeded shuffle of each kind of anchor: 0, 1, 2 where a linked B exists,
-- 0, 1 where not; exactly balanced within each kind and split (counts differ by ≤ 1).
CREATE OR REPLACE TEMP TABLE labelled AS
SELECT article, idx, k, held,
       ((row_number() OVER (PARTITION BY held, linked_ok ORDER BY u('label', article, idx, k), article, idx, k) - 1)
         % CASE WHEN linked_ok THEN 3 ELSE 2 END)::TINYINT AS label,
       u('article', article, idx, k) AS u_article,
       u('segment', article, idx, k) AS u_segment
FROM anchors;

-- Linked B articles: for each anchor labelled 2, the first candidate whose cumulative weight passes
-- the draw (a sorted merge per article). A statement of its own: inside the one below, beside its
-- other joins and sorts, the merge ran out of 256MB at 600k pages; alone it runs in 128MB.
CREATE OR REPLACE TEMP TABLE linked_j AS
SELECT l.article, l.idx, l.k, l.label, l.u_segment, c.dst AS b_article
FROM (SELECT * FROM labelled WHERE label = 2) l
ASOF JOIN link_cdf c ON c.src = l.article AND c.hi > l.u_article;

CREATE OR REPLACE TABLE pairs AS
WITH
  n_b AS (SELECT held, count(*)::INTEGER AS n FROM b_articles GROUP BY held),
  random_pos AS (   -- uniform over the positions of the split's B articles, skipping i's own
    SELECT l.article, l.idx, l.k, l.label, l.u_segment, l.held, floor(l.u_article * (n_b.n - 1))::INTEGER AS p, bi.pos AS own
    FROM labelled l JOIN b_articles bi ON bi.article = l.article JOIN n_b ON n_b.held = l.held
    WHERE l.label = 1
  ),
  random_j AS (   -- (the position is a column first, so that this is a hash join, not a loop over pairs)
    SELECT r.article, r.idx, r.k, r.label, r.u_segment, bj.article AS b_article
    FROM (SELECT *, p + (p >= own)::INTEGER AS b_pos FROM random_pos) r
    JOIN b_articles bj ON bj.held = r.held AND bj.pos = r.b_pos
  ),
  chosen AS (
    SELECT article, idx, k, label, u_segment, article AS b_article FROM labelled WHERE label = 0
    UNION ALL SELECT article, idx, k, label, u_segment, b_article FROM random_j
    UNION ALL SELECT article, idx, k, label, u_segment, b_article FROM linked_j
  )
SELECT (row_number() OVER (ORDER BY c.article, c.idx, c.k) - 1)::BIGINT AS id,
       c.article AS a_article, c.idx AS a_idx,
       c.b_article,
       CASE WHEN c.label = 0 THEN c.idx + 1
            ELSE (1 - getvariable('b_lead')) + floor(c.u_segment * (b.n - 1 + getvariable('b_lead')))::INTEGER END AS b_idx,
       c.label, c.k,
       CASE WHEN held(c.article) THEN 'validation' ELSE 'train' END AS split
FROM chosen c JOIN seg_n b ON b.article = c.b_article
ORDER BY id;
