-- What `linkbert pairs` made, and which segments could not be anchors and why.
-- Segments used as A or B: a table first (one statement with this beside all the counts below ran
-- out of 128MB at 600k pages).
CREATE OR REPLACE TEMP TABLE used AS
  SELECT a_article AS article, a_idx AS idx FROM pairs
  UNION SELECT b_article, b_idx FROM pairs;

SELECT
  (SELECT count(*) FROM pairs) AS pairs,
  (SELECT count(*) FROM pairs WHERE label = 0) AS contiguous,
  (SELECT count(*) FROM pairs WHERE label = 1) AS random,
  (SELECT count(*) FROM pairs WHERE label = 2) AS linked,
  (SELECT count(*) FROM segments) AS segments,
  (SELECT count(DISTINCT (a_article, a_idx)) FROM pairs) AS anchors,
  (SELECT count(*) FROM segments s JOIN seg_n n USING (article) WHERE n.n = 1) AS single_segment_articles,
  (SELECT count(*) FROM segments s JOIN seg_n n USING (article) WHERE n.n > 1 AND s.idx = n.n - 1) AS last_segments,
  (SELECT count(*) FROM segments s JOIN seg_n n USING (article)
     WHERE getvariable('unlinked') = 'skip' AND s.idx < n.n - 1 AND s.article NOT IN (SELECT article FROM linkable)) AS segments_without_linked_candidate,
  -- labels of the anchors that allow a linked B, and of those that do not (--unlinked nsp)
  (SELECT count(*) FROM pairs WHERE label = 0 AND a_article IN (SELECT article FROM linkable)) AS linkable_0,
  (SELECT count(*) FROM pairs WHERE label = 1 AND a_article IN (SELECT article FROM linkable)) AS linkable_1,
  (SELECT count(*) FROM pairs WHERE label = 2 AND a_article IN (SELECT article FROM linkable)) AS linkable_2,
  (SELECT count(*) FROM pairs WHERE label = 0 AND a_article NOT IN (SELECT article FROM linkable)) AS unlinked_0,
  (SELECT count(*) FROM pairs WHERE label = 1 AND a_article NOT IN (SELECT article FROM linkable)) AS unlinked_1,
  (SELECT count(*) FROM b_articles) AS b_articles,
  -- coverage: what appears in at least one instance, as A or as B
  (SELECT count(*) FROM articles) AS corpus_articles,
  (SELECT count(DISTINCT article) FROM seg_n) AS segmented_articles,
  (SELECT sum(n_tokens) FROM segments) AS tokens,
  (SELECT count(DISTINCT article) FROM used) AS covered_articles,
  (SELECT count(*) FROM used) AS covered_segments,
  (SELECT sum(s.n_tokens) FROM used u JOIN segments s USING (article, idx)) AS covered_tokens,
  (SELECT count(*) FROM pairs WHERE label <> 0 AND b_idx = 0) AS lead_b;
