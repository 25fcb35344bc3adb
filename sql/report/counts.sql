-- Corpus counts for the report: what each stage holds.
SELECT
  (SELECT count(*) FROM pages) AS pages,
  (SELECT count(*) FROM articles) AS articles,
  (SELECT count(*) FILTER (disambiguation) FROM articles) AS disambiguation_pages,
  (SELECT count(*) FROM redirects) AS redirects,
  (SELECT count(*) FROM links) AS links,
  (SELECT count(*) FROM edges) AS edges,
  (SELECT count(*) FROM segments) AS segments,
  (SELECT coalesce(sum(n_tokens), 0) FROM segments) AS tokens,
  (SELECT count(*) FROM pairs) AS pairs;
